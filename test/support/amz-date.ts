/** The current time as SigV4's x-amz-date (yyyyMMddTHHmmssZ), optionally shifted. */
export function amzDate(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
