import LDMModels
import LDMPipelines

/// The memory plan turned into tiling settings for each model run of an edit: the requested
/// tiles, or smaller ones where the estimated peak would exceed the ceiling (`MemoryPlanner`).
/// The latent a run sees is the image padded to the pipeline's size multiple, divided by the
/// first stage's factor (super-resolution conditions on the padded image itself: factor 1).
public struct TilePlanner: Sendable {
    public struct Plan: Sendable, Equatable {
        public let tiling: TilingSettings
        public let estimate: MemoryPlanner.Estimate
        /// Whether the ceiling forced smaller tiles than requested.
        public let isReduced: Bool
    }

    public let requested: TilingSettings
    /// The ceiling in bytes.
    public let budget: Int
    let planner: MemoryPlanner

    /// Bytes per pixel of the whole image held while a smaller run (crop window, resized image)
    /// of it is inpainted: its planar float copy, the result being pasted into, the mask (≈ 40).
    static let wholeImageBytesPerPixel = 40

    public init(planner: MemoryPlanner, request: TilingRequest, availableMemory: Int?) {
        self.planner = planner
        requested = request.tiles
        budget = request.budget(availableMemory: availableMemory)
    }

    /// The side of the latent for `pixels` image pixels: padded up to `multiple`, divided by `factor`.
    public static func latentSide(_ pixels: Int, multiple: Int, factor: Int = 1) -> Int {
        (pixels + multiple - 1) / multiple * multiple / factor
    }

    /// Super-resolution of a width × height input (its latent is the padded input).
    public func upscale(width: Int, height: Int, sizeMultiple: Int) throws -> Plan {
        try plan(latentHeight: Self.latentSide(height, multiple: sizeMultiple), latentWidth: Self.latentSide(width, multiple: sizeMultiple),
                 encodes: false, otherBytes: 0)
    }

    /// One inpainting run on a width × height image (the whole image, a crop window or the resized
    /// image) of an image with `wholePixels` pixels in all; `runBytesPerPixel`: what else the run holds per pixel of its
    /// own (`Candidates.heldBytesPerPixel`).
    public func inpaint(width: Int, height: Int, sizeMultiple: Int, factor: Int, wholePixels: Int, runBytesPerPixel: Int = 0) throws -> Plan {
        let whole = width * height == wholePixels
        return try plan(latentHeight: Self.latentSide(height, multiple: sizeMultiple, factor: factor),
                        latentWidth: Self.latentSide(width, multiple: sizeMultiple, factor: factor),
                        encodes: true, otherBytes: (whole ? 0 : Self.wholeImageBytesPerPixel * wholePixels) + runBytesPerPixel * width * height)
    }

    func plan(latentHeight: Int, latentWidth: Int, encodes: Bool, otherBytes: Int) throws -> Plan {
        let (tiling, estimate) = try planner.plan(latentHeight: latentHeight, latentWidth: latentWidth, preferred: requested, budget: budget,
                                                  encodes: encodes, otherBytes: otherBytes)
        return Plan(tiling: tiling, estimate: estimate, isReduced: tiling != requested)
    }
}
