/**
 * A 79-byte ONNX graph: one Identity node on float32[1], opset 17 (made with onnx.helper; checked by
 * tests/unit/warm-up-model.test.ts). Creating a session on it starts ONNX Runtime — WASM compilation, the thread
 * pool, the execution provider — which would otherwise be paid inside the real model's session creation.
 */
import { fromBase64 } from '../encoding/base64';

const WARM_UP_MODEL_BASE64 = 'CAgSBmZhY2llczo9ChAKAXgSAXkiCElkZW50aXR5Egd3YXJtLXVwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEQ==';

export function warmUpModel(): Uint8Array {
  return fromBase64(WARM_UP_MODEL_BASE64);
}
