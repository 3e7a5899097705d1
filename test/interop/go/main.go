// Kafka interop client on franz-go. Prints one JSON line on stdout; on failure {"error","type"}
// and exit 1.
//
//	produce  <bootstrap> <topic> <count> [--acks all] [--idempotent true|false] [--transactional-id ID] [--timeout-ms 60000]
//	produce-for <bootstrap> <topic> <seconds> [--rate 10]   rate * seconds records, paced; {"produced","errors"}
//	consume  <bootstrap> <topic> <group> <count> [--timeout-ms 60000]
//	describe <bootstrap> [--group NAME] [--timeout-ms 60000]
//	every command: [--sasl none|oauthbearer|aws]; the OAUTHBEARER token comes from the environment:
//	KAFKA_OAUTH_TOKEN_FILE (read again on every authentication) or KAFKA_OAUTH_TOKEN; aws is
//	AWS_MSK_IAM with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN] and AWS_REGION.
//
// --prop key=value is refused: settings are flags here.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kerr"
)

func main() {
	result, err := run(os.Args[1:])
	if err != nil {
		emit(map[string]string{"error": err.Error(), "type": errorType(err)})
		os.Exit(1)
	}
	emit(result)
}

func run(argv []string) (any, error) {
	args, err := parseArgs(argv)
	if err != nil {
		return nil, err
	}
	switch args.command {
	case "produce":
		return produce(args)
	case "produce-for":
		return produceFor(args)
	case "consume":
		return consume(args)
	case "describe":
		return describe(args)
	}
	return nil, fmt.Errorf("unknown command %q", args.command)
}

// Kafka error codes become their protocol names (TOPIC_AUTHORIZATION_FAILED), like the other clients' types.
func errorType(err error) string {
	var kafkaErr *kerr.Error
	if errors.As(err, &kafkaErr) {
		return "kerr." + kafkaErr.Message
	}
	return fmt.Sprintf("%T", err)
}

func emit(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}
