// A One-step Approval department consumer in Node.js, written from docs/asyncapi.yaml and
// the JSON Schemas under docs/schemas/ alone: no Python, no platform code.
//
//   AMQP_URL=amqp://department.health:<password>@127.0.0.1:5672/ DEPARTMENT=health \
//     node department.js
//
// It consumes the department's queue, validates every message against the published
// schemas, decides each task (approve; reject applicants named "Reject <department>"),
// publishes the result with publisher confirms, `mandatory` and the AMQP `user_id` of its
// broker user, and acknowledges the task only after the broker confirmed the result. It
// reconnects after the broker drops it; an unacknowledged task is then redelivered and
// answered again (the platform ignores the duplicate).
import amqp from 'amqplib';
import Ajv from 'ajv';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672/';
const DEPARTMENT = process.env.DEPARTMENT;
const SCHEMAS_DIR = process.env.SCHEMAS_DIR || path.join(here, '..', '..', '..', 'docs', 'schemas', 'v1');
const PREFETCH = Number(process.env.PREFETCH || 10);
const SCHEMA_VERSION = '1.1';

// names from docs/asyncapi.yaml
const QUEUE = `approval.tasks.${DEPARTMENT}`;
const RESULTS_EXCHANGE = 'approval.results';
const RESULT_KEY = `result.${DEPARTMENT}`;
const USER_ID = decodeURIComponent(new URL(AMQP_URL).username);

function log(level, message, fields = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), level, service: `node-department-${DEPARTMENT}`, message, ...fields }));
}

// -- the contract: JSON Schemas, checked on the way in and on the way out ---------------
const ajv = new Ajv({ allErrors: true });
const load = (name) => JSON.parse(readFileSync(path.join(SCHEMAS_DIR, `${name}.json`), 'utf8'));
const validators = Object.fromEntries(
  ['envelope', 'approval_task', 'task_cancelled', 'approval_result'].map((name) => [name, ajv.compile(load(name))]));

function check(name, value) {
  if (!validators[name](value)) {
    throw new Error(`${name}: ${ajv.errorsText(validators[name].errors)}`);
  }
}

function openEnvelope(content) {
  const envelope = JSON.parse(content.toString('utf8'));
  check('envelope', envelope);
  if (envelope.schema_version.split('.')[0] !== SCHEMA_VERSION.split('.')[0]) {
    throw new Error(`unsupported schema version ${envelope.schema_version}`);
  }
  if (!['approval_task', 'task_cancelled'].includes(envelope.type)) {
    throw new Error(`unexpected message type ${envelope.type}`);
  }
  check(envelope.type, envelope.payload);
  return envelope;
}

// -- the department's own rules ----------------------------------------------------------
function decide(task) {
  const name = task.applicant.name;
  if (name === `Reject ${DEPARTMENT}` || name === 'Reject all') {
    return { decision: 'rejected', reason: `${DEPARTMENT} (node): the applicant does not meet the statutory conditions` };
  }
  return { decision: 'approved', data: { reference_number: `NODE-${task.item_code}-${task.task_id.slice(0, 8).toUpperCase()}`, decided_by: 'node-department' } };
}

function resultEnvelope(task, answer) {
  const payload = {
    task_id: task.task_id, application_id: task.application_id, department: task.department,
    decision: answer.decision, reason: answer.reason || '', materials: answer.materials || [], data: answer.data || {},
  };
  const envelope = {
    message_id: randomUUID().replaceAll('-', ''), type: 'approval_result', schema_version: SCHEMA_VERSION,
    time: new Date().toISOString(), correlation_id: task.application_id, payload,
  };
  check('envelope', envelope);
  check('approval_result', payload);
  return envelope;
}

// -- AMQP: consume, publish with confirms, ack after the confirm, reconnect ---------------
let stopping = false;
let connection = null;

async function run() {
  connection = await amqp.connect(AMQP_URL);
  connection.on('error', (err) => log('warning', 'connection error', { error: String(err) }));
  const channel = await connection.createConfirmChannel();
  const returned = new Set(); // mandatory results the broker could not route
  channel.on('return', (msg) => returned.add(msg.properties.messageId));
  channel.on('close', () => { if (!stopping) connection.close().catch(() => {}); });
  await channel.prefetch(PREFETCH);
  await channel.checkQueue(QUEUE); // declared by the platform; our user may not declare

  const publishResult = (envelope) => new Promise((resolve, reject) => {
    channel.publish(RESULTS_EXCHANGE, RESULT_KEY, Buffer.from(JSON.stringify(envelope)), {
      persistent: true, mandatory: true, contentType: 'application/json', contentEncoding: 'utf-8',
      messageId: envelope.message_id, correlationId: envelope.correlation_id, userId: USER_ID,
    }, (err) => {
      if (err) return reject(new Error(`result not confirmed: ${err}`));
      if (returned.delete(envelope.message_id)) return reject(new Error('result unroutable'));
      return resolve();
    });
  });

  await channel.consume(QUEUE, async (msg) => {
    if (msg === null) return; // consumer cancelled by the broker: the close handler reconnects
    let envelope;
    try {
      envelope = openEnvelope(msg.content);
    } catch (err) {
      log('warning', 'unprocessable message dead-lettered', { error: err.message });
      channel.nack(msg, false, false); // to approval.dead through the queue's dead-letter exchange
      return;
    }
    const task = envelope.payload;
    if (envelope.type === 'task_cancelled') {
      log('info', 'task cancelled', { task_id: task.task_id, reason: task.reason });
      channel.ack(msg);
      return;
    }
    try {
      const answer = resultEnvelope(task, decide(task));
      await publishResult(answer);
      channel.ack(msg); // only now: the broker has the result
      log('info', 'task decided', { task_id: task.task_id, decision: answer.payload.decision });
    } catch (err) {
      log('warning', 'task not answered; requeued', { task_id: task.task_id, error: err.message });
      setTimeout(() => { try { channel.nack(msg, false, true); } catch { /* channel gone: redelivered anyway */ } }, 1000);
    }
  }, { noAck: false });
  log('info', `consuming ${QUEUE} as ${USER_ID}`);

  await new Promise((resolve) => connection.once('close', resolve));
}

async function main() {
  if (!DEPARTMENT) {
    console.error('DEPARTMENT is not set: name the department this consumer answers for');
    process.exit(2);
  }
  const stop = () => { stopping = true; if (connection) connection.close().catch(() => {}); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let delay = 1000;
  while (!stopping) {
    try {
      await run();
      delay = 1000;
    } catch (err) {
      log('warning', 'broker unavailable', { error: String(err), retry_ms: delay });
    }
    if (stopping) break;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 30000);
  }
  log('info', 'stopped');
}

main();
