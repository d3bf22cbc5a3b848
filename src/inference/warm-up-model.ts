/**
 * A 79-byte ONNX graph: one Identity node on float32[1], opset 17 (made with onnx.helper; checked by
 * tests/unit/warm-up-model.test.ts). Creating a session on it starts ONNX Runtime — WASM compilation, the thread
 * pool, the execution provider — which would otherwise be paid inside the real model's session creation.
 */
const WARM_UP_MODEL_BASE64 = 'CAgSBmZhY2llczo9ChAKAXgSAXkiCElkZW50aXR5Egd3YXJtLXVwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEQ==';

export function warmUpModel(): Uint8Array {
  return Uint8Array.from(atob(WARM_UP_MODEL_BASE64), (c) => c.charCodeAt(0));
}
