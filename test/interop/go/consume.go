package main

import (
	"context"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

type consumed struct {
	Consumed   int     `json:"consumed"`
	Partitions []int32 `json:"partitions"`
}

func consume(a *args) (any, error) {
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
	opts, err := clientOpts(a)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	// The deadline only bounds polling; the commit gets its own time.
	pollCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The group's own metadata requests retry a failed SASL authentication forever; a plain
	// request returns it.
	if err := cl.Ping(pollCtx); err != nil {
		return nil, err
	}
	n, seen := 0, map[int32]bool{}
	for n < count {
		fetches := cl.PollFetches(pollCtx)
		if pollCtx.Err() != nil {
			break
		}
		if err := fetchError(fetches); err != nil {
			return nil, err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			seen[r.Partition] = true
		})
	}
	commitCtx, cancelCommit := context.WithTimeout(context.Background(), timeout)
	defer cancelCommit()
	if err := cl.CommitUncommittedOffsets(commitCtx); err != nil {
		return nil, err
	}
	partitions := make([]int32, 0, len(seen))
	for p := range seen {
		partitions = append(partitions, p)
	}
	slices.Sort(partitions)
	return consumed{Consumed: n, Partitions: partitions}, nil
}

func fetchError(fetches kgo.Fetches) error {
	var errs []error
	for _, fe := range fetches.Errors() {
		errs = append(errs, fe.Err)
	}
	return errors.Join(errs...)
}
