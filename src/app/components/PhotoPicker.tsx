import { useRef, useState, type DragEvent } from 'react';

export function PhotoPicker({ onPhoto, disabled }: { onPhoto: (file: File) => void; disabled: boolean }) {
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const cameraInput = useRef<HTMLInputElement>(null);
  const take = (files: FileList | null) => {
    const file = files?.[0];
    if (file) onPhoto(file);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!disabled) take(e.dataTransfer.files);
  };
  return (
    <div
      className={`picker${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="drop-zone"
    >
      <p>Drop a face photo here, or</p>
      <div className="picker-buttons">
        <button type="button" onClick={() => fileInput.current?.click()} disabled={disabled}>
          Choose photo
        </button>
        <button type="button" onClick={() => cameraInput.current?.click()} disabled={disabled}>
          Take photo
        </button>
      </div>
      <input
        ref={fileInput}
        type="file"
        accept="image/*"
        data-testid="photo-input"
        aria-label="Choose a face photo"
        className="visually-hidden"
        onChange={(e) => {
          take(e.currentTarget.files);
          e.currentTarget.value = '';
        }}
      />
      <input
        ref={cameraInput}
        type="file"
        accept="image/*"
        capture="user"
        data-testid="camera-input"
        aria-label="Take a face photo with the camera"
        className="visually-hidden"
        onChange={(e) => {
          take(e.currentTarget.files);
          e.currentTarget.value = '';
        }}
      />
      <p className="hint">Front-facing, well lit, whole face visible. The photo never leaves this device.</p>
    </div>
  );
}
