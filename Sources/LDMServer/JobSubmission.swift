import Foundation
import NIOCore

/// The body of POST /api/jobs:
///
///     {"task": "inpaint", "model": "m1", "image": "<upload id>", "mask": "<upload id>", "sampler": "ddim",
///      "steps": 20, "seed": 42, "prompt": "…", "negative_prompt": "…", "guidance": 7.5, "noise_level": 20,
///      "hole_limit": 96, "candidates": 4, "blend_candidates": true, "session": "<id>"}
///
/// `sampler` (the model's own), `steps` (the model's own for that sampler, `SamplingDefault.steps(for:)`), `seed`
/// (random, drawn and shown at once), the prompt fields, `noise_level` (noise-augmented upscalers only: the x4
/// upscaler's low-res noise, 20), `hole_limit` (inpainting: holes wider than it filled coarse-to-fine, `CoarseToFine`;
/// off), `candidates` (inpainting: seeds previewed, the consensus one finished, `Candidates`; the model's own,
/// `Candidates.modelDefault`: 8 for ldm-edit's own models, 1 for the others), `blend_candidates` (with candidates: the
/// finished fill on the previews' mean's low frequencies; the model's own, on for ldm-edit's) and `session` may be left
/// out or null. Unknown fields are refused, so a misspelt one is not silently ignored.
struct JobSubmission: Decodable, Sendable {
    let task: String
    let model: String
    let image: String
    let mask: String?
    let sampler: String?
    let steps: Int?
    /// 0 … 2^63 − 1 (random seeds stay below 2^53, which every JSON reader keeps exact).
    let seed: Int64?
    let prompt: String?
    let negativePrompt: String?
    let guidance: Float?
    let noiseLevel: Int?
    let holeLimit: Int?
    let candidates: Int?
    let blendCandidates: Bool?
    let session: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, model, image, mask, sampler, steps, seed, prompt, guidance, candidates, session
        case negativePrompt = "negative_prompt", noiseLevel = "noise_level", holeLimit = "hole_limit"
        case blendCandidates = "blend_candidates"
    }

    /// Errors: `APIError` 400 naming the problem (not JSON, not an object, an unknown field, a wrong type).
    static func decode(_ buffer: ByteBuffer) throws -> JobSubmission {
        let data = Data(buffer.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown field \(unknown.prefix(40).debugDescription)")
        }
        do {
            return try JSONDecoder().decode(JobSubmission.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest("malformed job: \(APIError.describe(error))")
        }
    }
}
