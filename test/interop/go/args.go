package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A typo must fail, not silently run with a default (say, without a transaction).
var knownOptions = map[string]bool{"acks": true, "idempotent": true, "transactional-id": true, "timeout-ms": true, "group": true, "rate": true, "sasl": true, "kafka-version": true,
	"tls-ca": true, "tls-cert": true, "tls-key": true, "tls-server-name": true}

// args holds positionals (command, bootstrap, then per-command ones) and --name value options.
type args struct {
	command    string
	bootstrap  []string
	positional []string
	options    map[string]string
}

func parseArgs(argv []string) (*args, error) {
	a := &args{options: map[string]string{}}
	var positionals []string
	for i := 0; i < len(argv); i++ {
		if !strings.HasPrefix(argv[i], "--") {
			positionals = append(positionals, argv[i])
			continue
		}
		if i+1 >= len(argv) {
			return nil, fmt.Errorf("%s needs a value", argv[i])
		}
		name, value := strings.TrimPrefix(argv[i], "--"), argv[i+1]
		i++
		// Settings are flags here (--sasl); refusing --prop beats silently running without them.
		if name == "prop" {
			return nil, fmt.Errorf("the Go client supports no --prop settings, got %q", value)
		}
		if !knownOptions[name] {
			return nil, fmt.Errorf("unknown option --%s", name)
		}
		a.options[name] = value
	}
	if len(positionals) < 2 {
		return nil, fmt.Errorf("usage: <command> <bootstrap> ... (commands at the top of main.go)")
	}
	a.command, a.bootstrap, a.positional = positionals[0], strings.Split(positionals[1], ","), positionals[2:]
	return a, nil
}

// need checks the count of per-command positionals (after the bootstrap address).
func (a *args) need(n int) error {
	if len(a.positional) != n {
		return fmt.Errorf("%s takes %d arguments after <bootstrap>, got %q", a.command, n, a.positional)
	}
	return nil
}

func (a *args) option(name, fallback string) string {
	if v, ok := a.options[name]; ok {
		return v
	}
	return fallback
}

func (a *args) intArg(index int) (int, error) {
	return strconv.Atoi(a.positional[index])
}

// topicAndNumber reads the two positional arguments most commands start with: a topic and a count.
func (a *args) topicAndNumber() (string, int, error) {
	if err := a.need(2); err != nil {
		return "", 0, err
	}
	n, err := a.intArg(1)
	return a.positional[0], n, err
}

func (a *args) timeout() (time.Duration, error) {
	ms, err := strconv.Atoi(a.option("timeout-ms", "60000"))
	return time.Duration(ms) * time.Millisecond, err
}
