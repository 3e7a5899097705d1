package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type described struct {
	ClusterID   string   `json:"clusterId"`
	Nodes       []string `json:"nodes"`
	Controller  string   `json:"controller"`
	Coordinator string   `json:"coordinator"`
	Leaders     []string `json:"leaders"`
	Topics      int      `json:"topics"`
	Addresses   []string `json:"addresses"`
}

// describe collects every address a client learns from the cluster: what a proxy must rewrite.
// DescribeCluster, Metadata and FindCoordinator (through DescribeGroups) each carry some.
func describe(a *args) (any, error) {
	if err := a.need(0); err != nil {
		return nil, err
	}
	timeout, err := a.timeout()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts, err := clientOpts(a)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	cluster, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(cluster.ErrorCode); err != nil {
		return nil, err
	}
	out := described{ClusterID: cluster.ClusterID, Leaders: []string{}}
	for _, b := range cluster.Brokers {
		out.Nodes = append(out.Nodes, address(b.Host, b.Port))
		if b.NodeID == cluster.ControllerID {
			out.Controller = address(b.Host, b.Port)
		}
	}

	metadata, err := adm.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	brokers := map[int32]string{}
	for _, b := range metadata.Brokers {
		brokers[b.NodeID] = address(b.Host, b.Port)
	}
	for _, topic := range metadata.Topics {
		for _, p := range topic.Partitions {
			if leader, ok := brokers[p.Leader]; ok {
				out.Leaders = append(out.Leaders, leader)
			}
		}
	}
	out.Topics = len(metadata.Topics)

	coordinator, err := groupCoordinator(ctx, adm, a.option("group", "interop-describe"))
	if err != nil {
		return nil, err
	}
	out.Coordinator = address(coordinator.Host, coordinator.Port)

	out.Nodes, out.Leaders = sortedUnique(out.Nodes), sortedUnique(out.Leaders)
	out.Addresses = sortedUnique(slices.Concat(out.Nodes, out.Leaders, []string{out.Controller, out.Coordinator}))
	return out, nil
}

// groupCoordinator retries while brokers answer COORDINATOR_NOT_AVAILABLE, as they do until the
// offsets topic exists (a fresh cluster); franz-go hands that error back from DescribeGroups.
func groupCoordinator(ctx context.Context, adm *kadm.Client, group string) (kadm.BrokerDetail, error) {
	for {
		groups, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			err = groups[group].Err
		}
		if err == nil || !kerr.IsRetriable(err) || ctx.Err() != nil {
			return groups[group].Coordinator, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func address(host string, port int32) string {
	return fmt.Sprintf("%s:%d", host, port)
}

func sortedUnique(items []string) []string {
	slices.Sort(items)
	return slices.Compact(items)
}
