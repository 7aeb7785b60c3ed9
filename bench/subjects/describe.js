// How results record the subjects they ran, and how the page shows them.
import { markdownTable } from '../report.js';

// One colour per subject on every chart: the bare SDK grey and resilient() blue, as on the rest of the page.
const COLORS = { bare: '#8a8f98', 'ai-sdk': '#e0803a', langchain: '#3aa55d', portkey: '#b04fc4', cockatiel: '#c9a227', resilient: '#2f6fdf' };

/** The chart colour of each subject `keys` (barChart's `colors`). */
export const subjectColors = (keys) => keys.map((key) => COLORS[key] ?? '#555555');

/** What a result file keeps of each subject: its key, name, set-up and package versions. */
export const describeSubjects = (subjects) => subjects.map(({ key, name, configuration, versions }) => ({ key, name, configuration, versions }));

/** A Markdown table of the subjects a result ran: how each was set up, and the versions measured. */
export function subjectsTable(described) {
  return markdownTable(
    ['subject', 'set up as', 'versions'],
    described.map((s) => [s.name, s.configuration, Object.entries(s.versions).map(([name, version]) => `${name} ${version}`).join(', ')]),
  );
}
