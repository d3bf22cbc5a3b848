// Gives a large ArrayBuffer's memory back now rather than at the next garbage collection, which for a worker that
// goes idle once its model is loaded can be far away: until then a 100+ MB buffer that nothing reads any more still
// counts against the tab. ArrayBuffer.prototype.transfer(0) detaches the buffer and frees its bytes (Chrome 114,
// Safari 17.4, Firefox 122); where it is missing the buffer waits for the collector, as before. Only for a buffer that
// nothing will read again: every view of it becomes empty.
export function freeNow(buffer: ArrayBufferLike): void {
  const b = buffer as ArrayBufferLike & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (typeof b.transfer === 'function' && !b.detached) b.transfer(0);
}
