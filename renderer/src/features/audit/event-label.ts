/** `LeaseExpiringSoon` → `Lease expiring soon`. */
export function eventLabel(e: string): string {
  const words = e.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
