import type { RecordSize } from './e2e-options.js';

export const count = (x: number): string => Math.round(x).toLocaleString('en');
export const sizeLabel = (size: RecordSize): string => (size === 1024 ? '1 KiB' : `${size} B`);
export const ratio = (x: number): string => `${x.toFixed(2)}x`;
