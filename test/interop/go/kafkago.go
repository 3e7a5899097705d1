package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/aws_msk_iam_v2"
)

// kafkaGoSASL is nil for --sasl none, else AWS_MSK_IAM (kafka-go has no OAUTHBEARER) signed with
// static credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN] for
// AWS_REGION. It signs the host it dialed.
func kafkaGoSASL(a *args) (sasl.Mechanism, error) {
	switch mechanism := a.option("sasl", "none"); mechanism {
	case "none":
		return nil, nil
	case "aws":
		credentials := aws.Credentials{
			AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		}
		region := os.Getenv("AWS_REGION")
		if credentials.AccessKeyID == "" || credentials.SecretAccessKey == "" || region == "" {
			return nil, errors.New("--sasl aws needs AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION")
		}
		return &aws_msk_iam_v2.Mechanism{
			Signer: signer.NewSigner(),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return credentials, nil
			}),
			Region: region,
		}, nil
	default:
		return nil, fmt.Errorf("--sasl must be none or aws, got %q", mechanism)
	}
}

func kafkaGoDialer(a *args) (*kafka.Dialer, error) {
	mechanism, err := kafkaGoSASL(a)
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{ClientID: "interop-kafka-go", Timeout: 10 * time.Second, SASLMechanism: mechanism}, nil
}

type kafkaGoTopology struct {
	Brokers    []string `json:"brokers"`
	Controller string   `json:"controller"`
}

// kafkaGoCreateTopic is kafka-go's documented recipe: Conn.Brokers() and Conn.Controller() on a
// connection to the bootstrap server (both Metadata v1), then CreateTopics on a connection to the
// controller. It prints the addresses the client learned.
func kafkaGoCreateTopic(a *args) (any, error) {
	if err := a.need(3); err != nil {
		return nil, err
	}
	topic := a.positional[0]
	partitions, err := a.intArg(1)
	if err != nil {
		return nil, err
	}
	replicas, err := a.intArg(2)
	if err != nil {
		return nil, err
	}
	dialer, err := kafkaGoDialer(a)
	if err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	conn, err := dialer.DialContext(ctx, "tcp", a.bootstrap[0])
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	brokers, err := conn.Brokers()
	if err != nil {
		return nil, err
	}
	controller, err := conn.Controller()
	if err != nil {
		return nil, err
	}
	controllerAddress := net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port))
	controllerConn, err := dialer.DialContext(ctx, "tcp", controllerAddress)
	if err != nil {
		return nil, err
	}
	defer controllerConn.Close()
	if err := controllerConn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: replicas}); err != nil {
		return nil, err
	}

	addresses := make([]string, 0, len(brokers))
	for _, b := range brokers {
		addresses = append(addresses, net.JoinHostPort(b.Host, strconv.Itoa(b.Port)))
	}
	slices.Sort(addresses)
	return kafkaGoTopology{Brokers: addresses, Controller: controllerAddress}, nil
}

// kafkaGoProduce writes k<i>=v<i> with a kafka.Writer (acks=all), spreading records round-robin
// over the partitions.
func kafkaGoProduce(a *args) (any, error) {
	topic, count, err := a.topicAndNumber()
	if err != nil {
		return nil, err
	}
	mechanism, err := kafkaGoSASL(a)
	if err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	// The Writer does not say where a record went; its balancer does.
	var mu sync.Mutex
	written := map[int]bool{}
	next := 0
	writer := &kafka.Writer{
		Addr:         kafka.TCP(a.bootstrap...),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
		Transport:    &kafka.Transport{ClientID: "interop-kafka-go", SASL: mechanism},
		Balancer: kafka.BalancerFunc(func(_ kafka.Message, partitions ...int) int {
			mu.Lock()
			defer mu.Unlock()
			p := partitions[next%len(partitions)]
			next++
			written[p] = true
			return p
		}),
	}
	defer writer.Close()
	messages := make([]kafka.Message, count)
	for i := range messages {
		messages[i] = kafka.Message{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	if err := writer.WriteMessages(ctx, messages...); err != nil {
		// WriteErrors holds one error per record; the first failed one says why.
		var failures kafka.WriteErrors
		if errors.As(err, &failures) {
			for _, e := range failures {
				if e != nil {
					return nil, e
				}
			}
		}
		return nil, err
	}
	partitions := make([]int32, 0, len(written))
	for p := range written {
		partitions = append(partitions, int32(p))
	}
	slices.Sort(partitions)
	return produced{Produced: count, Partitions: partitions}, nil
}

// kafkaGoConsume reads count records with a kafka.Reader in a consumer group, from the earliest
// offset, and commits them.
func kafkaGoConsume(a *args) (any, error) {
	if err := a.need(3); err != nil {
		return nil, err
	}
	topic, group := a.positional[0], a.positional[1]
	count, err := a.intArg(2)
	if err != nil {
		return nil, err
	}
	dialer, err := kafkaGoDialer(a)
	if err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     a.bootstrap,
		Topic:       topic,
		GroupID:     group,
		Dialer:      dialer,
		StartOffset: kafka.FirstOffset,
		MaxWait:     500 * time.Millisecond,
	})
	defer reader.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var messages []kafka.Message
	seen := map[int32]bool{}
	for len(messages) < count {
		m, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return nil, err
		}
		messages = append(messages, m)
		seen[int32(m.Partition)] = true
	}
	if len(messages) > 0 {
		commitCtx, cancelCommit := context.WithTimeout(context.Background(), timeout)
		defer cancelCommit()
		if err := reader.CommitMessages(commitCtx, messages...); err != nil {
			return nil, err
		}
	}
	records := make([]string, 0, len(messages))
	for _, m := range messages {
		records = append(records, fmt.Sprintf("%s=%s", m.Key, m.Value))
	}
	slices.Sort(records)
	partitions := make([]int32, 0, len(seen))
	for p := range seen {
		partitions = append(partitions, p)
	}
	slices.Sort(partitions)
	return consumedRecords{Consumed: len(records), Partitions: partitions, Records: records}, nil
}
