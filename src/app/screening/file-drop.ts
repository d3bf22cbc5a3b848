// Dropping photos on a picker: the highlight while something is dragged over it, and the files when dropped.
import { useState, type DragEvent } from 'react';

export function useFileDrop(onFiles: (files: FileList) => void, enabled = true) {
  const [dragging, setDragging] = useState(false);
  const dropProps = {
    onDragOver: (e: DragEvent) => {
      e.preventDefault();
      setDragging(true);
    },
    onDragLeave: () => setDragging(false),
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      if (enabled) onFiles(e.dataTransfer.files);
    },
  };
  return { dragging, dropProps };
}
