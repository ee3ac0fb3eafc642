import LDMTensor

/// One layer of a U-Net block (a member of openaimodel's `TimestepEmbedSequential`) as `UNetLayout`
/// places it: every block type describes its submodules once, in its own `Layout`, and both the
/// parameter list and the model are read off that description.
///
/// A new block type (e.g. Stable Diffusion's cross-attention `SpatialTransformer`) is one file in
/// Blocks/: its `Layout` (submodule names, shapes, diffusers names) conforming to this protocol and
/// the runnable layer it builds; `UNetLayout.init` then places it where the config asks for it.
protocol UNetLayerLayout: Sendable {
    /// The layer's tensors in module registration order.
    var parameters: [ParameterSpec] { get }
    /// The runnable layer, fetching exactly `parameters` from `weights`.
    func build(_ weights: any WeightProvider) throws -> any UNetLayer
}

/// A runnable U-Net layer. - x: [N, C, H, W] → [N, C', H', W']
protocol UNetLayer: Sendable {
    func callAsFunction(_ x: Tensor, _ inputs: UNetLayerInputs, _ ws: Workspace) throws -> Tensor
}

/// What a layer may read besides x during one U-Net call (openaimodel passes `emb`, and `context`
/// once there is cross-attention).
struct UNetLayerInputs {
    /// SiLU(time embedding): [N, E], the input of every ResBlock's `emb_layers.1`.
    let embSiLU: Tensor
    /// The text context [N, L, D] of the cross-attention blocks (Stable Diffusion); nil for the LDM families.
    var context: Tensor? = nil
    /// The model's trace, for layers that report outputs inside themselves (a SpatialTransformer's blocks).
    var trace: ModelTrace? = nil
}
