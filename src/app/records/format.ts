// Locale-aware dates, class names and file downloads for the records screens.
export const formatDateTime = (iso: string, lng: string) => new Intl.DateTimeFormat(lng, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));

/** The display name of a class id: from the running model's manifest when it has the class, else the id. */
export function className(id: string, names: Record<string, Record<string, string>>, lng: string): string {
  const n = names[id];
  return n?.[lng] ?? n?.en ?? id;
}

export const downloadBlob = (blob: Blob, name: string) => {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // A large backup takes a while to be copied out of the Blob: the URL is kept a minute.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
};

export const exportName = (ext: string, now = new Date()) => `facies-cases-${now.toISOString().slice(0, 16).replace(/[:T]/g, '-')}.${ext}`;
