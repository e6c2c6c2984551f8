// One CSV writer for the desktop export and `bella audit list -o csv`: same columns, same escaping.
export { auditToCsv } from '../../../daemon/base/common/audit-csv';

/** Saves text as a file through the browser's download path. */
export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
