/** `init`'s lines of the CLI's usage, on their own so that printing them loads nothing else. */
export const INIT_USAGE = `  kafka-auth-proxy init [--dir .] [--brokers host:9092,...] [--auth oauthbearer|aws-msk-iam|both]
                       [--jwks-url URL --issuer URL --audience kafka] [--aws-region us-east-1]
                       [--mode enforce|audit] [--migration] [--advertised-host HOST] [--port 9092]
                       [--admin-port 9464] [--yes] [--force]
                                                writes a starter proxy.yaml and policy.yaml (asks on a terminal)`;
