import Foundation

/// How an output was made, embedded in it (PNG iTXt "ldm-edit", TIFF ImageDescription, JPEG
/// comment) as one JSON object and printed by `ldm-edit info`.
///
/// The settings part is the edit request itself, in its provenance view (`EditRequest+Coding`:
/// the model by name, not path), flattened into the object next to what is per output: the
/// tool's version, the plan that ran, the input's (and mask's) name and SHA-256, the resume key
/// and the date. The key covers what decides the pixels and nothing else (`EditRequest.resumeKey`).
public struct Provenance: Sendable, Equatable {
    public var tool = "ldm-edit"
    public var version: String
    public var settings: EditRequest
    /// What actually ran for this image: the tile plan after the memory ceiling, the inpainting
    /// strategy and windows (recorded, not part of the key: it follows from the image and the request).
    public var plan: String?
    /// File names (not paths) and SHA-256s of the input and mask.
    public var input: String
    public var inputSHA256: String
    public var mask: String?
    public var maskSHA256: String?
    /// The resume key; a rerun skips an output whose key matches.
    public var key: String
    public var created: String

    /// - input, mask: paths; only their last components are recorded.
    public init(version: String, settings: EditRequest, plan: String?, input: String, inputSHA256: String, mask: String? = nil,
                maskSHA256: String? = nil, key: String, created: Date = Date()) {
        self.version = version
        self.settings = settings
        self.plan = plan
        self.input = (input as NSString).lastPathComponent
        self.inputSHA256 = inputSHA256
        self.mask = mask.map { ($0 as NSString).lastPathComponent }
        self.maskSHA256 = maskSHA256
        self.key = key
        self.created = Self.timestamp(created)
    }

    /// The embedded form: compact JSON with sorted keys.
    public func json() throws -> String {
        String(decoding: try EditRequest.canonicalEncoder().encode(self), as: UTF8.self)
    }

    /// Parses embedded text; nil when it is not ldm-edit's (another program's description or
    /// comment) or not readable by this version.
    public static func parse(_ text: String?) -> Provenance? {
        guard let text, text.hasPrefix("{"), let data = text.data(using: .utf8),
              let value = try? JSONDecoder().decode(Provenance.self, from: data), value.tool == "ldm-edit" else { return nil }
        return value
    }

    /// ISO 8601 in UTC, to the second.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension Provenance: Codable {
    enum CodingKeys: String, CodingKey {
        case tool, version, plan, input, mask, key, created
        case inputSHA256 = "input_sha256", maskSHA256 = "mask_sha256"
    }

    public func encode(to encoder: any Encoder) throws {
        // The request's fields and these share one object (JSONEncoder merges the containers).
        try settings.encode(to: encoder, view: .provenance)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tool, forKey: .tool)
        try c.encode(version, forKey: .version)
        try c.encodeIfPresent(plan, forKey: .plan)
        try c.encode(input, forKey: .input)
        try c.encode(inputSHA256, forKey: .inputSHA256)
        try c.encodeIfPresent(mask, forKey: .mask)
        try c.encodeIfPresent(maskSHA256, forKey: .maskSHA256)
        try c.encode(key, forKey: .key)
        try c.encode(created, forKey: .created)
    }

    public init(from decoder: any Decoder) throws {
        settings = try EditRequest(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tool = try c.decode(String.self, forKey: .tool)
        version = try c.decode(String.self, forKey: .version)
        plan = try c.decodeIfPresent(String.self, forKey: .plan)
        input = try c.decodeIfPresent(String.self, forKey: .input) ?? ""
        inputSHA256 = try c.decodeIfPresent(String.self, forKey: .inputSHA256) ?? ""
        mask = try c.decodeIfPresent(String.self, forKey: .mask)
        maskSHA256 = try c.decodeIfPresent(String.self, forKey: .maskSHA256)
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
        created = try c.decodeIfPresent(String.self, forKey: .created) ?? ""
    }
}
