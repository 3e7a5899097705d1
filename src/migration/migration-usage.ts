/** The migration toolkit's lines of the CLI's usage, on their own so that printing them loads nothing else. */
export const MIGRATION_USAGE = `  kafka-auth-proxy access report (--recording DIR | --config proxy.yaml) [--listener L] [--since 24h|ISO-TIME] [--format table|json|csv]
                                                who used which topics, groups, transactional ids
  kafka-auth-proxy policy suggest (--recording DIR | --config proxy.yaml) [--group-by client-id|address] [--output FILE]
                                                a policy allowing what was recorded
  kafka-auth-proxy policy check --policy FILE (--recording DIR | --config proxy.yaml) [--group-by client-id|address]
                                                what the policy would deny of the recording (exit 1 if anything)
  kafka-auth-proxy migration status (--recording DIR | --config proxy.yaml) [--format table|json]
                                                which plaintext clients have moved to an authenticated listener
  kafka-auth-proxy access compact (--recording DIR | --config proxy.yaml) [--older-than 1h]
                                                merges the files no proxy has written for that long into one`;
