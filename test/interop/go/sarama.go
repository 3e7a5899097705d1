package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/IBM/sarama"
)

// saramaConfig is IBM sarama's client configuration for --kafka-version (its config.Version, which
// caps every request version it sends: 0.10.2.0 sends Metadata v2) and --sasl none|oauthbearer.
func saramaConfig(a *args) (*sarama.Config, error) {
	config := sarama.NewConfig()
	config.ClientID = "interop-sarama"
	version, err := sarama.ParseKafkaVersion(a.option("kafka-version", "3.9.0"))
	if err != nil {
		return nil, err
	}
	config.Version = version
	switch mechanism := a.option("sasl", "none"); mechanism {
	case "none":
	case "oauthbearer":
		if _, err := staticOAuthToken(); err != nil {
			return nil, err
		}
		config.Net.SASL.Enable = true
		config.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		config.Net.SASL.TokenProvider = saramaTokenProvider{}
	default:
		return nil, fmt.Errorf("--sasl must be none or oauthbearer, got %q", mechanism)
	}
	return config, nil
}

// saramaTokenProvider reads the token again on every authentication, as franz-go's does (sasl.go).
type saramaTokenProvider struct{}

func (saramaTokenProvider) Token() (*sarama.AccessToken, error) {
	token, err := staticOAuthToken()
	if err != nil {
		return nil, err
	}
	return &sarama.AccessToken{Token: token}, nil
}

// staticOAuthToken is KAFKA_OAUTH_TOKEN_FILE's content, or else KAFKA_OAUTH_TOKEN.
func staticOAuthToken() (string, error) {
	if path := os.Getenv("KAFKA_OAUTH_TOKEN_FILE"); path != "" {
		token, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("reading the OAUTHBEARER token: %w", err)
		}
		return strings.TrimSpace(string(token)), nil
	}
	if token := os.Getenv("KAFKA_OAUTH_TOKEN"); token != "" {
		return token, nil
	}
	return "", errors.New("--sasl oauthbearer needs KAFKA_OAUTH_TOKEN or KAFKA_OAUTH_TOKEN_FILE")
}

// saramaProduce writes k<i>=v<i> to partition i % partitions with a SyncProducer (acks=all).
func saramaProduce(a *args) (any, error) {
	topic, count, err := a.topicAndNumber()
	if err != nil {
		return nil, err
	}
	config, err := saramaConfig(a)
	if err != nil {
		return nil, err
	}
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	client, err := sarama.NewClient(a.bootstrap, config)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	partitions, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer producer.Close()

	messages := make([]*sarama.ProducerMessage, count)
	for i := range messages {
		messages[i] = &sarama.ProducerMessage{
			Topic:     topic,
			Partition: partitions[i%len(partitions)],
			Key:       sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("v%d", i)),
		}
	}
	if err := producer.SendMessages(messages); err != nil {
		// ProducerErrors lists every failed record; the first one says why.
		var failures sarama.ProducerErrors
		if errors.As(err, &failures) && len(failures) > 0 {
			return nil, failures[0].Err
		}
		return nil, err
	}
	written := make([]int32, 0, count)
	for _, m := range messages {
		written = append(written, m.Partition)
	}
	slices.Sort(written)
	return produced{Produced: count, Partitions: slices.Compact(written)}, nil
}

// consumedRecords is consumed plus every record read, as "key=value", sorted.
type consumedRecords struct {
	Consumed   int      `json:"consumed"`
	Partitions []int32  `json:"partitions"`
	Records    []string `json:"records"`
}

// saramaConsume reads count records in a consumer group from the earliest offset and commits them.
func saramaConsume(a *args) (any, error) {
	if err := a.need(3); err != nil {
		return nil, err
	}
	topic, group := a.positional[0], a.positional[1]
	count, err := a.intArg(2)
	if err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	config, err := saramaConfig(a)
	if err != nil {
		return nil, err
	}
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Offsets.AutoCommit.Enable = false
	// Errors from the group's background work come out on Errors(), so a refusal ends the run.
	config.Consumer.Return.Errors = true
	cg, err := sarama.NewConsumerGroup(a.bootstrap, group, config)
	if err != nil {
		return nil, err
	}
	defer cg.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	handler := &saramaHandler{want: count, done: cancel}
	failed := make(chan error, 1)
	go func() {
		for err := range cg.Errors() {
			select {
			case failed <- err:
			default:
			}
			cancel()
		}
	}()
	// Consume returns at every rebalance; it is called again until the records are in.
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{topic}, handler); err != nil && ctx.Err() == nil {
			return nil, err
		}
	}
	select {
	case err := <-failed:
		return nil, err
	default:
	}
	return handler.result(), nil
}

// saramaHandler counts records across the claims of each session and commits what it read.
type saramaHandler struct {
	want int
	done context.CancelFunc

	mu         sync.Mutex
	records    []string
	partitions map[int32]bool
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error { return nil }

// Cleanup commits the marked offsets synchronously before the session ends.
func (h *saramaHandler) Cleanup(session sarama.ConsumerGroupSession) error {
	session.Commit()
	return nil
}

func (h *saramaHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for message := range claim.Messages() {
		session.MarkMessage(message, "")
		h.mu.Lock()
		h.records = append(h.records, fmt.Sprintf("%s=%s", message.Key, message.Value))
		if h.partitions == nil {
			h.partitions = map[int32]bool{}
		}
		h.partitions[message.Partition] = true
		if len(h.records) >= h.want {
			h.done()
		}
		h.mu.Unlock()
	}
	return nil
}

func (h *saramaHandler) result() consumedRecords {
	h.mu.Lock()
	defer h.mu.Unlock()
	partitions := make([]int32, 0, len(h.partitions))
	for p := range h.partitions {
		partitions = append(partitions, p)
	}
	slices.Sort(partitions)
	records := slices.Clone(h.records)
	slices.Sort(records)
	return consumedRecords{Consumed: len(records), Partitions: partitions, Records: records}
}
