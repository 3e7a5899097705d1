/**
 * Kafka's KafkaPrincipal has no length limit, but the proxy writes principals into log lines
 * and cache keys: a generous bound that every real identity (an email, a service account, an
 * IAM ARN) fits in.
 */
export const MAX_PRINCIPAL_LENGTH = 255;

/** C0 controls, DEL and C1 controls: they forge log lines, hide in terminals and make lookalike names. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why a principal name cannot be accepted, or undefined if it can (sources refuse empty names
 * themselves, each with its own message). The reason never quotes the name: it may come from a
 * token the client sent.
 */
export function principalNameProblem(principal: string): string | undefined {
  if (principal.length > MAX_PRINCIPAL_LENGTH) return `principal is longer than ${MAX_PRINCIPAL_LENGTH} characters`;
  if (CONTROL_CHARACTER.test(principal)) return 'principal contains a control character';
  return undefined;
}

/** Why a role name cannot be accepted, or undefined if it can (the reason does not quote it). */
export function roleNameProblem(role: string): string | undefined {
  return CONTROL_CHARACTER.test(role) ? 'a role name contains a control character' : undefined;
}

/** The first problem with an identity's principal or roles, for a refused authentication. */
export function identityProblem(principal: string, roles: readonly string[]): string | undefined {
  const problem = principalNameProblem(principal);
  if (problem) return problem;
  for (const role of roles) {
    const roleProblem = roleNameProblem(role);
    if (roleProblem) return roleProblem;
  }
  return undefined;
}
