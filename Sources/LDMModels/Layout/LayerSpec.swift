import LDMTensor

/// A leaf of a layout: one layer that owns tensors, at its module path with the numbers that give
/// their shapes. Its `parameters` are what the parameter list, the audit and the diffusers mapping
/// see; the matching layer (`Conv2dLayer`, `GroupNormLayer`, `LinearLayer`, `VectorQuantizer`) is
/// built from the same spec and fetches exactly those tensors.
public protocol LayerSpec: Sendable {
    var path: ModulePath { get }
    /// Its tensors in module registration order (weight, then bias).
    var parameters: [ParameterSpec] { get }
}

/// nn.Conv2d (or openaimodel's `conv_nd(1, …)`, stored [O, C, k] and run as [O, C, k, k] with k = 1).
/// - x: [N, input, H, W] → [N, output, (H + pad − k)/stride + 1, …]
public struct ConvolutionSpec: LayerSpec, Equatable {
    public let path: ModulePath
    public let input: Int
    public let output: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Conv2d.Padding
    /// 2 (nn.Conv2d) or 1 (a Conv1d, the U-Net attention's qkv and proj_out): only the stored shape differs.
    public let dimensions: Int

    public init(_ path: ModulePath, input: Int, output: Int, kernel: Int, stride: Int = 1,
                padding: Conv2d.Padding = .symmetric(0), dimensions: Int = 2) {
        (self.path, self.input, self.output, self.kernel, self.stride, self.padding, self.dimensions) =
            (path, input, output, kernel, stride, padding, dimensions)
    }

    /// The k×k convolution with padding k/2 that keeps the size at stride 1 (every 3×3 and 1×1 here).
    public static func same(_ path: ModulePath, input: Int, output: Int, kernel: Int) -> ConvolutionSpec {
        ConvolutionSpec(path, input: input, output: output, kernel: kernel, padding: .symmetric(kernel / 2))
    }

    /// [O, C, k, k] (Conv1d: [O, C, k]).
    public var weight: ParameterSpec { path.parameter("weight", [output, input] + Array(repeating: kernel, count: dimensions)) }
    public var bias: ParameterSpec { path.parameter("bias", [output]) }
    public var parameters: [ParameterSpec] { [weight, bias] }
}

/// nn.GroupNorm with affine weight and bias [channels]. - x: [N, channels, …] → same shape
public struct GroupNormSpec: LayerSpec, Equatable {
    public let path: ModulePath
    public let channels: Int
    public let groups: Int
    public let eps: Double

    public init(_ path: ModulePath, channels: Int, groups: Int, eps: Double) {
        (self.path, self.channels, self.groups, self.eps) = (path, channels, groups, eps)
    }

    public var weight: ParameterSpec { path.parameter("weight", [channels]) }
    public var bias: ParameterSpec { path.parameter("bias", [channels]) }
    public var parameters: [ParameterSpec] { [weight, bias] }
}

/// nn.Linear: weight [output, input], bias [output] (when it has one). A 1x1 `nn.Conv2d` that acts on
/// each position alone (the transformer's conv `proj_in`/`proj_out`) is the same layer stored as
/// [output, input, 1, 1] (`convolution`). - x: [N, input] → [N, output]
public struct LinearSpec: LayerSpec, Equatable {
    public let path: ModulePath
    public let input: Int
    public let output: Int
    public let hasBias: Bool
    public let convolution: Bool

    public init(_ path: ModulePath, input: Int, output: Int, bias: Bool = true, convolution: Bool = false) {
        (self.path, self.input, self.output, self.hasBias, self.convolution) = (path, input, output, bias, convolution)
    }

    public var weight: ParameterSpec { path.parameter("weight", [output, input] + (convolution ? [1, 1] : [])) }
    public var bias: ParameterSpec? { hasBias ? path.parameter("bias", [output]) : nil }
    public var parameters: [ParameterSpec] { [weight] + (bias.map { [$0] } ?? []) }
}

/// nn.LayerNorm over the last dimension: weight and bias [channels].
public struct LayerNormSpec: LayerSpec, Equatable {
    public let path: ModulePath
    public let channels: Int
    public let eps: Double

    public init(_ path: ModulePath, channels: Int, eps: Double = 1e-5) {
        (self.path, self.channels, self.eps) = (path, channels, eps)
    }

    public var weight: ParameterSpec { path.parameter("weight", [channels]) }
    public var bias: ParameterSpec { path.parameter("bias", [channels]) }
    public var parameters: [ParameterSpec] { [weight, bias] }
}

/// nn.Embedding: weight [count, dimension] (the VQ codebook).
public struct EmbeddingSpec: LayerSpec, Equatable {
    public let path: ModulePath
    public let count: Int
    public let dimension: Int

    public init(_ path: ModulePath, count: Int, dimension: Int) {
        (self.path, self.count, self.dimension) = (path, count, dimension)
    }

    public var weight: ParameterSpec { path.parameter("weight", [count, dimension]) }
    public var parameters: [ParameterSpec] { [weight] }
}
