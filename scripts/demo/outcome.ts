/** What happened when a step ran: the broker's answer came through, the proxy denied it, or something else. */
export interface Outcome {
  verdict: 'allowed' | 'denied' | 'error';
  detail: string;
}

const DENIAL = 'TOPIC_AUTHORIZATION_FAILED';

export function allowed(detail: string): Outcome {
  return { verdict: 'allowed', detail };
}

/** A client error is a denial only if the Kafka error code is TOPIC_AUTHORIZATION_FAILED. */
export function fromError(error: unknown): Outcome {
  const chain = causes(error);
  const denial = chain.find((e) => (e as { type?: unknown }).type === DENIAL);
  const shown = denial ?? chain[chain.length - 1];
  const text = shown instanceof Error ? `${shown.name}${denialType(shown)}: ${shown.message}` : String(shown);
  return { verdict: denial ? 'denied' : 'error', detail: text };
}

export function failed(detail: string): Outcome {
  return { verdict: 'error', detail };
}

function denialType(e: Error): string {
  const { type } = e as { type?: unknown };
  return typeof type === 'string' ? ` ${type}` : '';
}

/** kafkajs wraps the protocol error (cause, originalError) when retries run out. */
function causes(error: unknown): unknown[] {
  const chain = [error];
  for (let e = error; e instanceof Error; ) {
    const wrapper = e as { cause?: unknown; originalError?: unknown };
    const next = wrapper.cause ?? wrapper.originalError;
    if (next === undefined || chain.includes(next)) break;
    chain.push(next);
    e = next;
  }
  return chain;
}
