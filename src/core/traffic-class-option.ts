import { TRAFFIC_CLASSES, type TrafficClass } from './traffic-class.js';

/**
 * `value` as a traffic class, or a `TypeError` naming where it came from (`forClass(trafficClass)`, the
 * request header) and the classes there are. Classes are names, never numbers: three ranks say what a
 * queue needs, and a name reads the same in code, logs and dashboards.
 */
export function trafficClassOption(where: string, value: unknown): TrafficClass {
  if (typeof value === 'string' && (TRAFFIC_CLASSES as readonly string[]).includes(value)) return value as TrafficClass;
  const got = typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
  throw new TypeError(
    `openai-resilient: ${where} must be one of ${TRAFFIC_CLASSES.map((name) => `'${name}'`).join(', ')}, got ${got}.`,
  );
}
