// A hidden file input behind a photo button (the picker's and "add another photo"): one place for what an image
// input needs — image types only, the camera when asked, and a reset so that the same file can be picked twice.
import type { Ref } from 'react';

export function HiddenPhotoInput(props: {
  ref: Ref<HTMLInputElement>;
  testId: string;
  label: string;
  onFiles: (files: FileList | null) => void;
  capture?: 'user' | 'environment';
  multiple?: boolean;
}) {
  return (
    <input
      ref={props.ref}
      type="file"
      accept="image/*"
      multiple={props.multiple}
      capture={props.capture}
      data-testid={props.testId}
      aria-label={props.label}
      className="visually-hidden"
      tabIndex={-1}
      onChange={(e) => {
        props.onFiles(e.currentTarget.files);
        e.currentTarget.value = '';
      }}
    />
  );
}
