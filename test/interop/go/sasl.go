package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// clientOpts are the settings every command shares: seed brokers, client id, SASL and TLS (tls.go).
func clientOpts(a *args) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(a.bootstrap...), kgo.ClientID("interop-go")}
	switch mechanism := a.option("sasl", "none"); mechanism {
	case "none":
	case "oauthbearer":
		m, err := oauthBearer()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	case "aws":
		m, err := mskIAM()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	default:
		return nil, fmt.Errorf("--sasl must be none, oauthbearer or aws, got %q", mechanism)
	}
	tlsSettings, err := tlsOpts(a)
	if err != nil {
		return nil, err
	}
	return append(opts, tlsSettings...), nil
}

// oauthBearer takes the token from KAFKA_OAUTH_TOKEN_FILE, read again on every authentication so
// a test can hand out fresh tokens for re-authentication, or else from KAFKA_OAUTH_TOKEN.
// Neither value is ever printed.
func oauthBearer() (sasl.Mechanism, error) {
	if path := os.Getenv("KAFKA_OAUTH_TOKEN_FILE"); path != "" {
		return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			token, err := os.ReadFile(path)
			if err != nil {
				return oauth.Auth{}, fmt.Errorf("reading the OAUTHBEARER token: %w", err)
			}
			return oauth.Auth{Token: strings.TrimSpace(string(token))}, nil
		}), nil
	}
	token := os.Getenv("KAFKA_OAUTH_TOKEN")
	if token == "" {
		return nil, errors.New("--sasl oauthbearer needs KAFKA_OAUTH_TOKEN or KAFKA_OAUTH_TOKEN_FILE")
	}
	return oauth.Auth{Token: token}.AsMechanism(), nil
}

// mskIAM is AWS_MSK_IAM with static credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// (for temporary credentials) AWS_SESSION_TOKEN. franz-go takes the signing region from the
// broker's host name, and for a host outside AWS (127.0.0.1) from AWS_REGION or
// AWS_DEFAULT_REGION. The user agent is franz-go's own ("franz-go/<go version>/<hostname>").
func mskIAM() (sasl.Mechanism, error) {
	auth := aws.Auth{
		AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
	}
	if auth.AccessKey == "" || auth.SecretKey == "" {
		return nil, errors.New("--sasl aws needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return auth.AsManagedStreamingIAMMechanism(), nil
}
