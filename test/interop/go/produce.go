package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type produced struct {
	Produced   int     `json:"produced"`
	Partitions []int32 `json:"partitions"`
}

func produce(a *args) (any, error) {
	topic, count, err := a.topicAndNumber()
	if err != nil {
		return nil, err
	}
	opts, err := producerOpts(a)
	if err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	partitions, err := partitionCount(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return nil, err
	}
	// Explicit partitions so every partition gets written whatever the key hashes to.
	records := make([]*kgo.Record, count)
	for i := range records {
		records[i] = &kgo.Record{Topic: topic, Partition: int32(i % partitions), Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
	}
	transactional := a.option("transactional-id", "") != ""
	if transactional {
		if err := cl.BeginTransaction(); err != nil {
			return nil, err
		}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return nil, err
	}
	if transactional {
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return nil, err
		}
	}
	written := make([]int32, 0, len(records))
	for _, r := range records {
		written = append(written, r.Partition)
	}
	slices.Sort(written)
	return produced{Produced: count, Partitions: slices.Compact(written)}, nil
}

func producerOpts(a *args) ([]kgo.Opt, error) {
	opts, err := clientOpts(a)
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	switch acks := a.option("acks", "all"); acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		return nil, fmt.Errorf("--acks must be all, -1, 1 or 0, got %q", acks)
	}
	switch idempotent := a.option("idempotent", "true"); idempotent {
	case "true":
	case "false":
		opts = append(opts, kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("--idempotent must be true or false, got %q", idempotent)
	}
	if id := a.option("transactional-id", ""); id != "" {
		opts = append(opts, kgo.TransactionalID(id))
	}
	return opts, nil
}

func partitionCount(ctx context.Context, adm *kadm.Client, topic string) (int, error) {
	metadata, err := adm.Metadata(ctx, topic)
	if err != nil {
		return 0, err
	}
	detail, ok := metadata.Topics[topic]
	if !ok {
		return 0, fmt.Errorf("no metadata for topic %s", topic)
	}
	if detail.Err != nil {
		return 0, detail.Err
	}
	return len(detail.Partitions), nil
}
