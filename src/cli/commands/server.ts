import { parseRegion, startServer } from '../../server/index.ts';
import { parseDuration } from '../../util/index.ts';
import { type Command, list, str, UsageError } from '../command.ts';

export const serverCommand: Command = {
  name: 'server',
  summary: 'run the vault server (HTTPS API over the catalog)',
  usage: 'offsite server --data DIR [--listen HOST:PORT] [--region NAME=URL]... [--catalog postgres://…]',
  details:
    'The first start in DIR creates the catalog, a CA (ca.pem; ca-key.pem mode 0600), the server\n' +
    'certificate and an admin API token (DIR/admin-token, mode 0600); later starts reuse them.\n' +
    'Without --region there is one region, local, in DIR/regions/local. Request logs are JSON\n' +
    'lines on stderr. SIGINT or SIGTERM stops it gracefully.\n' +
    'Several servers behind one address share a PostgreSQL catalog: --catalog (or\n' +
    '$OFFSITE_CATALOG) postgres://USER@HOST:PORT/DB, with the password in $PGPASSWORD or\n' +
    '~/.pgpass so it never appears in the process list.',
  options: {
    data: { type: 'string' },
    listen: { type: 'string' },
    region: { type: 'string', multiple: true },
    catalog: { type: 'string' },
    'public-url': { type: 'string' },
    'site-down-after': { type: 'string' },
    'replication-lag-alert': { type: 'string' },
    'audit-retention': { type: 'string' },
  },
  optionHelp: [
    ['--data DIR', 'the server data folder (created if missing)'],
    ['--listen HOST:PORT', 'address to listen on (default 127.0.0.1:8443; port 0 picks a free one)'],
    [
      '--region NAME=URL',
      'a storage region: file:///PATH, azure://ACCOUNT/CONTAINER, s3://BUCKET?endpoint=… (repeatable)',
    ],
    [
      '--catalog URL',
      'a shared PostgreSQL catalog (default: DATA_DIR/catalog.sqlite; also $OFFSITE_CATALOG)',
    ],
    [
      '--site-down-after DURATION',
      'mark a DR site down (with an alert) after its site agent is silent this long (default 60s)',
    ],
    [
      '--replication-lag-alert DURATION',
      "alert when a vault's secondary region lacks data older than this (default 1h)",
    ],
    ['--audit-retention DURATION', 'keep audit log entries this long (default 400d)'],
  ],
  async run(ctx) {
    const dataDir = str(ctx.values, 'data');
    if (!dataDir) throw new UsageError('give --data DIR');
    const siteDownAfter = str(ctx.values, 'site-down-after');
    const lagAlert = str(ctx.values, 'replication-lag-alert');
    const auditRetention = str(ctx.values, 'audit-retention');
    const server = await startServer({
      dataDir,
      listen: str(ctx.values, 'listen') ?? '127.0.0.1:8443',
      regions: list(ctx.values, 'region').map(parseRegion),
      catalogUrl: str(ctx.values, 'catalog') ?? ctx.env.OFFSITE_CATALOG,
      publicUrl: str(ctx.values, 'public-url'),
      siteDownAfterMs: siteDownAfter === undefined ? undefined : parseDuration(siteDownAfter),
      replicationLagAlertMs: lagAlert === undefined ? undefined : parseDuration(lagAlert),
      auditRetentionMs: auditRetention === undefined ? undefined : parseDuration(auditRetention),
    });
    const regions = server.regions.map((r) => `${r.name}=${r.url}`);
    ctx.out.data({
      url: server.url,
      adminTokenFile: server.files.adminToken,
      caCert: server.files.caCert,
      regions: server.regions,
      loginUrl: server.loginUrl,
    });
    ctx.out.line(`offsite server listening on ${server.url}`);
    ctx.out.line(`admin token: ${server.files.adminToken} (send it as "Authorization: Bearer TOKEN")`);
    ctx.out.line(`CA certificate: ${server.files.caCert} (clients trust it via OFFSITE_CA_CERT)`);
    ctx.out.line(`regions: ${regions.join(', ')}`);
    ctx.out.line(`console login link (one use, 15 minutes): ${server.loginUrl}`);
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    ctx.out.note(`offsite server: ${signal}, finishing requests in flight`);
    await server.close();
    ctx.out.note('offsite server: stopped');
    return 0;
  },
};
