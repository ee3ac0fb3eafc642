import LDMImageIO
import LDMPipelines

/// A mask ready for the inpainting pipeline.
public struct PreparedMask: Sendable, Equatable {
    /// width·height values, 1 = repaint, 0 = keep (after inversion and dilation).
    public let values: [Float]
    /// What looks wrong with the mask as the request reads it (inverted, before dilation).
    public let warnings: [MaskWarning]
}

extension InpaintingRequest {
    /// The mask raster for a width × height image: gray as is, colour through luma, binarised at
    /// 50 %; resized nearest-neighbour when `maskResize` allows a size mismatch; inverted and
    /// dilated as asked.
    public func prepare(mask: RasterImage, width: Int, height: Int) throws(MaskError) -> PreparedMask {
        let sameSize = mask.width == width && mask.height == height
        guard sameSize || maskResize else {
            throw .sizeMismatch(maskWidth: mask.width, maskHeight: mask.height, imageWidth: width, imageHeight: height)
        }
        let raw = InpaintingImages.mask(mask, resizeTo: sameSize ? nil : (width, height))
        let warnings = InpaintingImages.warnings(maskInvert ? raw.map { 1 - $0 } : raw)
        let values = InpaintingImages.adjust(raw, width: width, height: height, invert: maskInvert, dilate: maskDilate)
        return PreparedMask(values: values, warnings: warnings)
    }
}
