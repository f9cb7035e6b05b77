// A reflection-only client: it has none of our .proto files and learns every service, message
// and error-detail type from the server's gRPC reflection, as grpcurl does. It starts the fake
// LINE platform and channeld itself, and stops them at the end.
//
// usage: node reflection_test.js CHANNELD FAKE_LINE FIXTURE_JSON
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

const [channeldPath, fakeLinePath, fixturePath] = process.argv.slice(2);
const children = [];

// Starts a program and resolves with the first stdout line that contains `marker`.
function start(argv, marker) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv[0]}: no "${marker}" in 30 s`)), 30000);
    child.on('exit', (code) => reject(new Error(`${argv[0]} exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes(marker)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

function fixtureChannel(index) {
  return JSON.parse(fs.readFileSync(fixturePath, 'utf8')).channels[index];
}

function unary(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + 30000 }, (error, response) =>
      resolve({ error, response }));
  });
}

// Renders a gRPC error as grpcurl does: the code, the message, and each detail decoded with
// types looked up through reflection by the Any's type URL.
async function renderError(reflection, error) {
  const raw = error.metadata.get('grpc-status-details-bin')[0];
  assert.ok(raw, 'the error carries google.rpc.Status details');
  const statusRoot = (await reflection.getDescriptorBySymbol('google.rpc.Status')).getProtobufJsRoot();
  const status = statusRoot.lookupType('google.rpc.Status').decode(raw);
  const details = [];
  for (const any of status.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const root = (await reflection.getDescriptorBySymbol(typeName)).getProtobufJsRoot();
    const type = root.lookupType(typeName);
    details.push({ '@type': any.type_url, ...type.toObject(type.decode(any.value)) });
  }
  return { code: grpc.status[error.code], message: status.message, details };
}

async function main() {
  const fakeLine = await start(
    [fakeLinePath, '--listen=127.0.0.1:0', `--fixture=${fixturePath}`], 'fake_line listening on');
  const lineUrl = fakeLine.slice(fakeLine.indexOf('http://'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reflection-'));
  const ready = await start(
    [channeldPath, '--grpc_listen=127.0.0.1:0', '--webhook_listen=127.0.0.1:0',
      '--admin_listen=127.0.0.1:0', `--data_dir=${dataDir}`, `--line_api_base_url=${lineUrl}`],
    'channeld ready');
  const address = /grpc=(\S+)/.exec(ready)[1];
  const credentials = grpc.credentials.createInsecure();
  const reflection = new GrpcReflection(address, credentials);
  // ChannelService needs the caller token the first start wrote; reflection and health do not.
  const token = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const auth = new grpc.Metadata();
  auth.set('authorization', `Bearer ${token}`);

  // grpcurl list
  const services = await reflection.listServices();
  console.log('services:', services.join(', '));
  for (const name of ['linechannel.v1.ChannelService', 'linechannel.v1.AdminService',
    'grpc.health.v1.Health', 'grpc.reflection.v1alpha.ServerReflection']) {
    assert.ok(services.includes(name), `${name} is listed`);
  }

  // grpcurl describe linechannel.v1.ChannelService
  const methods = (await reflection.listMethods('linechannel.v1.ChannelService')).map((m) => m.name);
  console.log('ChannelService methods:', methods.join(', '));
  for (const name of ['BindChannel', 'UnbindChannel', 'GetWebhookUrl', 'VerifyWebhook',
    'GetChannel', 'ListChannels', 'UpdateCredentials', 'ListAuditEntries', 'ReplyMessage',
    'PushMessage', 'GetPush',
    'GetProfile', 'GetMessageContent', 'GetMessageQuota', 'MarkAsRead', 'ShowLoadingAnimation']) {
    assert.ok(methods.includes(name), `ChannelService has ${name}`);
  }
  const serviceDescriptor = await reflection.getDescriptorBySymbol('linechannel.v1.ChannelService');
  const bindRequest = serviceDescriptor.getProtobufJsRoot().lookupType('linechannel.v1.BindChannelRequest');
  for (const field of ['team_id', 'app_name', 'channel_id', 'channel_secret',
    'channel_access_token', 'line_id']) {
    assert.ok(field in bindRequest.fields, `BindChannelRequest has ${field}`);
  }

  // grpcurl ... grpc.health.v1.Health/Check
  const healthPackage = (await reflection.getDescriptorBySymbol('grpc.health.v1.Health'))
    .getPackageObject({ keepCase: true, enums: String });
  const health = new healthPackage.grpc.health.v1.Health(address, credentials);
  const checked = await unary(health, 'Check', { service: '' });
  assert.ifError(checked.error);
  assert.equal(checked.response.status, 'SERVING');
  console.log('health:', checked.response.status);

  // grpcurl -d '{...}' ... linechannel.v1.ChannelService/BindChannel
  const channelPackage = serviceDescriptor.getPackageObject({ keepCase: true, enums: String });
  const service = new channelPackage.linechannel.v1.ChannelService(address, credentials);
  const channel = fixtureChannel(0);
  const request = {
    team_id: 'team-a', app_name: 'Shop One', channel_id: channel.channel_id,
    channel_secret: channel.channel_secret, channel_access_token: channel.access_token,
    line_id: channel.basic_id,
  };
  const unauthenticated = await unary(service, 'BindChannel', request);
  assert.equal(unauthenticated.error && unauthenticated.error.code, grpc.status.UNAUTHENTICATED);
  const bound = await unary(service, 'BindChannel', request, auth);
  assert.ifError(bound.error);
  assert.equal(bound.response.channel.state, 'ACTIVE');
  assert.match(bound.response.channel.webhook_url, /\/line\/webhook\/[A-Za-z0-9_-]{32}$/);
  console.log('bound:', bound.response.channel.webhook_url);

  // The same OA from another team: ALREADY_EXISTS, rendered with its ErrorInfo.
  const refused = await unary(service, 'BindChannel', { ...request, team_id: 'team-b' }, auth);
  assert.ok(refused.error, 'another team is refused');
  assert.equal(refused.error.code, grpc.status.ALREADY_EXISTS);
  const rendered = await renderError(reflection, refused.error);
  console.log('error as grpcurl shows it:', JSON.stringify(rendered, null, 1));
  const info = rendered.details.find((d) => d['@type'].endsWith('/google.rpc.ErrorInfo'));
  assert.ok(info, 'an ErrorInfo detail');
  assert.equal(info.reason, 'OA_BOUND_TO_OTHER_TEAM');
  assert.equal(info.domain, 'linechannel.v1');
  assert.match(rendered.message, /Unbind it in that team first/);

  // An invalid request: BadRequest names the fields.
  const invalid = await unary(service, 'BindChannel', { team_id: 'team-a' }, auth);
  const invalidRendered = await renderError(reflection, invalid.error);
  const badRequest = invalidRendered.details.find((d) => d['@type'].endsWith('/google.rpc.BadRequest'));
  assert.ok(badRequest, 'a BadRequest detail');
  assert.ok(badRequest.field_violations.some((v) => v.field === 'channel_secret'));

  // The outbound RPCs' messages come from messaging.proto, which the client learns only as a
  // dependency of the service's file.
  const pushRequest = serviceDescriptor.getProtobufJsRoot().lookupType('linechannel.v1.PushMessageRequest');
  for (const field of ['team_id', 'channel_id', 'to', 'messages', 'request_id']) {
    assert.ok(field in pushRequest.fields, `PushMessageRequest has ${field}`);
  }
  const badPush = await unary(service, 'PushMessage', {
    team_id: 'team-a', channel_id: channel.channel_id, to: 'nobody', request_id: 'r-1',
    messages: ['{"type":"text","text":"hello"}'],
  }, auth);
  const badPushRendered = await renderError(reflection, badPush.error);
  const pushViolations = badPushRendered.details.find((d) => d['@type'].endsWith('/google.rpc.BadRequest'));
  assert.ok(pushViolations && pushViolations.field_violations.some((v) => v.field === 'to'),
    'PushMessage names the bad recipient');
  const unknownPush = await unary(service, 'GetPush',
    { team_id: 'team-a', channel_id: channel.channel_id, request_id: 'never-sent' }, auth);
  assert.equal(unknownPush.error && unknownPush.error.code, grpc.status.NOT_FOUND);
  const unknownRendered = await renderError(reflection, unknownPush.error);
  assert.ok(unknownRendered.details.some((d) => d.reason === 'PUSH_NOT_FOUND'), 'PUSH_NOT_FOUND');
  console.log('outbound RPCs: described and answering');

  health.close();
  service.close();
  console.log('reflection-only client: all checks passed');
}

main()
  .then(() => { process.exitCode = 0; })
  .catch((error) => { console.error(error); process.exitCode = 1; })
  .finally(() => { for (const child of children) child.kill('SIGTERM'); });
