/**
 * What the demo started, stopped last-started-first. Runs once: a Ctrl-C during a normal
 * stop waits for the same stop instead of starting another.
 */
export class Teardown {
  private readonly stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  add(what: string, stop: () => Promise<void>): void {
    this.stops.push({ what, stop });
  }

  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const { what, stop } of this.stops.reverse()) {
        // Keep going: whatever comes after (Kafka's JVM) must still be stopped.
        await stop().catch((e: unknown) => console.error(`  could not stop ${what}: ${e instanceof Error ? e.message : String(e)}`));
      }
    })());
  }
}
