import type { Outcome } from './outcome.js';
import type { Step } from './steps.js';

const MARKS: Record<Outcome['verdict'], string> = { allowed: '✔ ALLOWED', denied: '✘ DENIED ', error: '! ERROR  ' };

/** Runs the steps one after another, printing each outcome; true if every one was as expected. */
export async function runSteps(steps: Step[], say: (line: string) => void): Promise<boolean> {
  let asExpected = 0;
  for (const [i, step] of steps.entries()) {
    say(`${i + 1}. ${step.title}`);
    const outcome = await step.run();
    const expected = outcome.verdict === step.expected;
    if (expected) asExpected++;
    say(`   ${MARKS[outcome.verdict]}  ${outcome.detail}`);
    if (!expected) say(`   ^ UNEXPECTED: this should have been ${step.expected.toUpperCase()}`);
  }
  say('');
  say(asExpected === steps.length ? `All ${steps.length} outcomes as expected.` : `${steps.length - asExpected} of ${steps.length} outcomes NOT as expected.`);
  return asExpected === steps.length;
}
