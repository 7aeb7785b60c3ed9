// How results record the subjects they ran, and how the page shows them.
import { markdownTable } from '../report.js';

/** What a result file keeps of each subject: its key, name, set-up and package versions. */
export const describeSubjects = (subjects) => subjects.map(({ key, name, configuration, versions }) => ({ key, name, configuration, versions }));

/** A Markdown table of the subjects a result ran: how each was set up, and the versions measured. */
export function subjectsTable(described) {
  return markdownTable(
    ['subject', 'set up as', 'versions'],
    described.map((s) => [s.name, s.configuration, Object.entries(s.versions).map(([name, version]) => `${name} ${version}`).join(', ')]),
  );
}
