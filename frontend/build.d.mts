export function isStale(): boolean;
export function buildDashboard(opts?: { force?: boolean; quiet?: boolean }): Promise<boolean>;
