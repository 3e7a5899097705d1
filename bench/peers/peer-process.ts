/** Another project's Kafka proxy, running as a child process in front of the bench's broker. */
export interface PeerProcess {
  /** Its path name in the results. */
  name: string;
  version: string;
  /** "127.0.0.1:port" clients bootstrap at. */
  bootstrap: string;
  /** Its process, whose CPU and memory (with any children) are measured. */
  pid: number;
  /** Resolves, saying how, when the process ends. */
  exited: Promise<string>;
  stop(): Promise<void>;
}
