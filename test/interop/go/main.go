// Kafka interop client on franz-go, and on IBM sarama and segmentio kafka-go for the commands
// named after them. Prints one JSON line on stdout; on failure {"error","type"} and exit 1.
//
//	produce  <bootstrap> <topic> <count> [--acks all] [--idempotent true|false] [--transactional-id ID] [--timeout-ms 60000]
//	produce-for <bootstrap> <topic> <seconds> [--rate 10]   rate * seconds records, paced; {"produced","errors"}
//	consume  <bootstrap> <topic> <group> <count> [--timeout-ms 60000]
//	describe <bootstrap> [--group NAME] [--timeout-ms 60000]
//
// sarama and kafka-go: records are k<i>=v<i>, and consuming also prints every record read as
// "key=value", sorted: {"consumed","partitions","records"}. Their errors' types are
// sarama.<ERROR_NAME> and kafka-go.<ERROR_NAME>.
//
//	sarama-produce  <bootstrap> <topic> <count> [--kafka-version 3.9.0] [--sasl none|oauthbearer]
//	sarama-consume  <bootstrap> <topic> <group> <count> [--kafka-version 3.9.0] [--sasl none|oauthbearer] [--timeout-ms 60000]
//	kafkago-create-topic <bootstrap> <topic> <partitions> <replicas> [--sasl none|aws]   Conn.Brokers() and
//	                 Conn.Controller() at the bootstrap, CreateTopics at the controller; {"brokers","controller"}
//	kafkago-produce <bootstrap> <topic> <count> [--sasl none|aws] [--timeout-ms 60000]
//	kafkago-consume <bootstrap> <topic> <group> <count> [--sasl none|aws] [--timeout-ms 60000]
//
//	every command: [--sasl none|oauthbearer|aws]; the OAUTHBEARER token comes from the environment:
//	KAFKA_OAUTH_TOKEN_FILE (read again on every authentication) or KAFKA_OAUTH_TOKEN; aws is
//	AWS_MSK_IAM with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN] and AWS_REGION.
//
//	franz-go commands: [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]
//	dial TLS (tls.go): PEM CA bundle, PEM client certificate and key, server name to check and send.
//
// --prop key=value is refused: settings are flags here.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
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
	case "sarama-produce":
		return saramaProduce(args)
	case "sarama-consume":
		return saramaConsume(args)
	case "kafkago-create-topic":
		return kafkaGoCreateTopic(args)
	case "kafkago-produce":
		return kafkaGoProduce(args)
	case "kafkago-consume":
		return kafkaGoConsume(args)
	}
	return nil, fmt.Errorf("unknown command %q", args.command)
}

// Kafka error codes become their protocol names (TOPIC_AUTHORIZATION_FAILED), like the other clients' types.
func errorType(err error) string {
	var kafkaErr *kerr.Error
	if errors.As(err, &kafkaErr) {
		return "kerr." + kafkaErr.Message
	}
	var saramaErr sarama.KError
	if errors.As(err, &saramaErr) {
		return "sarama." + protocolName(int16(saramaErr))
	}
	var kafkaGoErr kafka.Error
	if errors.As(err, &kafkaGoErr) {
		return "kafka-go." + protocolName(int16(kafkaGoErr))
	}
	return fmt.Sprintf("%T", err)
}

func protocolName(code int16) string {
	var known *kerr.Error
	if errors.As(kerr.ErrorForCode(code), &known) {
		return known.Message
	}
	return fmt.Sprintf("error code %d", code)
}

func emit(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}
