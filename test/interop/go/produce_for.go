package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type producedFor struct {
	Produced int `json:"produced"`
	Errors   int `json:"errors"`
}

// produceFor sends rate * seconds records on a fixed schedule, so a reader knows how many to
// expect; a stall is caught up rather than shortening the run. An authentication failure ends it.
func produceFor(a *args) (any, error) {
	topic, seconds, err := a.topicAndNumber()
	if err != nil {
		return nil, err
	}
	rate, err := strconv.Atoi(a.option("rate", "10"))
	if err != nil || rate <= 0 {
		return nil, fmt.Errorf("--rate must be a positive integer, got %q", a.option("rate", "10"))
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	opts, err := producerOpts(a)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	setupCtx, cancelSetup := context.WithTimeout(context.Background(), timeout)
	defer cancelSetup()
	partitions, err := partitionCount(setupCtx, kadm.NewClient(cl), topic)
	if err != nil {
		return nil, err
	}

	var mu sync.Mutex
	var out producedFor
	var authErr error
	start := time.Now()
	for i := 0; i < seconds*rate; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		mu.Lock()
		failed := authErr
		mu.Unlock()
		if failed != nil {
			return nil, failed
		}
		record := &kgo.Record{Topic: topic, Partition: int32(i % partitions), Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}
		cl.Produce(context.Background(), record, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				out.Produced++
				return
			}
			out.Errors++
			if authErr == nil && errors.Is(err, kerr.SaslAuthenticationFailed) {
				authErr = err
			}
		})
	}
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), timeout)
	defer cancelFlush()
	if err := cl.Flush(flushCtx); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if authErr != nil {
		return nil, authErr
	}
	return out, nil
}
