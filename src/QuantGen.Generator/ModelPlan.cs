using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// Everything the generated class of one model is, decided (<see cref="ModelPlanner"/>) before anything is printed
    /// (<see cref="ModelPrinter"/>): immutable and value-equatable, like the specs of System.Text.Json's generator, so the
    /// incremental pipeline skips printing when a new artifact plans the same class. Identifiers in a plan come from the
    /// identifier policy (<see cref="Identifiers"/>); names from the model (tensors, layers, inputs) are kept raw and
    /// escaped only by the printer (docs/security.md, "Names never become code").
    /// </summary>
    /// <param name="Declaration">Namespace, class name and declaration keywords.</param>
    /// <param name="ActivationBits">8 (u8 activations, QuantGenKernels) or 16 (i16 activations, QuantGenWideKernels).</param>
    /// <param name="Header">The model's description for the file header and class doc.</param>
    /// <param name="Io">Inputs then outputs, in the artifact's order.</param>
    /// <param name="Buffers">One scratch buffer per quantized tensor that is no model output and no alias.</param>
    /// <param name="Scratch">The kernels' shared scratch (receptive fields, accumulators), or null when no layer needs it.</param>
    /// <param name="Layers">One method per layer, in execution order.</param>
    /// <param name="Data">The constant blobs, in the order the layers registered them.</param>
    /// <param name="Derived">Static arrays computed once from constant data (unpacked factors), in registration order.</param>
    /// <param name="Caches">Static <c>short[]?</c> fields a kernel fills on first use on some CPUs (<see cref="CacheValue"/>).</param>
    internal sealed record ModelPlan(
        EmitPlan Declaration,
        int ActivationBits,
        ModelHeader Header,
        EquatableArray<IoPlan> Io,
        EquatableArray<BufferPlan> Buffers,
        ScratchPlan? Scratch,
        EquatableArray<LayerPlan> Layers,
        EquatableArray<DataPlan> Data,
        EquatableArray<DerivedDataPlan> Derived,
        EquatableArray<string> Caches)
    {
        /// <summary>One input and one output: Run's parameters are input/output, the members Input…/Output….</summary>
        public bool SingleIo => Io.Count == 2 && Io[0].IsInput && !Io[1].IsInput;
    }

    /// <summary>The artifact's description: its name and metadata (null where absent), raw.</summary>
    internal sealed record ModelHeader(string ModelName, string? Source, string? WeightBits, string? ActivationBits, string? Algorithms,
        string? Calibration, string? CalibrationSamples, string? CalibrationSqnrDb);

    /// <summary>
    /// A model input or output: its float span parameter of Run and its static Length/Shape members
    /// (<paramref name="Prefix"/> Input/Output for one input and one output, else from the name).
    /// </summary>
    internal sealed record IoPlan(string Name, bool IsInput, string Parameter, string Prefix, EquatableArray<int> Shape, int ElementCount);

    /// <summary>A scratch buffer field holding one intermediate tensor (quantized, or float between the float edge layers).</summary>
    internal sealed record BufferPlan(string Field, bool IsFloat, int Length, string Tensor);

    /// <summary>
    /// The kernels' shared scratch: <c>_col</c> (receptive fields or padded planes; activation elements), <c>_acc</c> (int32
    /// accumulators, 8-bit models only: 0 for none), and <c>_partPlanes</c> when a large layer is split between threads.
    /// </summary>
    internal sealed record ScratchPlan(int ColLength, int AccLength, bool PartPlanes);

    /// <summary>A tensor as a layer's doc comment describes it.</summary>
    internal sealed record TensorView(bool IsFloat, EquatableArray<int> Shape, float Scale, int ZeroPoint);

    /// <summary>A float span the layer method takes from Run: a model input (read) or output (written).</summary>
    internal sealed record FloatParameter(string Name, bool IsOutput);

    /// <summary>
    /// One layer's method and what it does. <paramref name="Kind"/>, <paramref name="Name"/> and
    /// <paramref name="Comment"/> come from the artifact (raw). <paramref name="Layout"/> and <paramref name="Fusion"/>
    /// are the decisions of <see cref="ActivationLayout"/> and <see cref="ConvPoolFusion"/> the body follows.
    /// </summary>
    internal sealed record LayerPlan(
        string Method,
        string Kind,
        string Name,
        string Comment,
        EquatableArray<TensorView> Inputs,
        EquatableArray<TensorView> Outputs,
        EquatableArray<FloatParameter> Parameters,
        LayerLayout Layout,
        LayerFusion Fusion,
        LayerBody Body);

    /// <summary>How a layer's image operands are laid out in the generated buffers.</summary>
    internal enum LayerLayout
    {
        /// <summary>As the artifact: NCHW (or no image at all).</summary>
        Nchw,
        /// <summary>Channels-last buffers, channels-last kernel.</summary>
        Nhwc,
        /// <summary>Quantize of the model's NCHW input into an NHWC buffer.</summary>
        NchwToNhwc,
        /// <summary>Dequantize of an NHWC buffer into the model's NCHW output.</summary>
        NhwcToNchw,
        /// <summary>FullyConnected reading a flattened NHWC image: weight columns permuted at build time.</summary>
        FlattenedNhwc,
    }

    /// <summary>A Conv → MaxPool fusion seen from either layer (<see cref="ConvPoolFusion"/>).</summary>
    /// <param name="Pool">On the convolution: the MaxPool (raw name) it computes; null otherwise.</param>
    /// <param name="ComputedBefore">On the MaxPool: computed by the convolution before it, nothing to do.</param>
    internal sealed record LayerFusion(string? Pool, bool ComputedBefore)
    {
        public static LayerFusion None { get; } = new(null, false);
    }

    /// <summary>What a layer method's body does.</summary>
    internal abstract record LayerBody;

    /// <summary>Nothing: the layer's output is computed by the fused convolution before it.</summary>
    internal sealed record NoBody : LayerBody;

    /// <summary>A Reshape: the output buffer aliases the input's (same elements, same order), nothing to do.</summary>
    internal sealed record AliasBody : LayerBody;

    /// <summary>A Reshape into a buffer of its own (or a model output): copy.</summary>
    internal sealed record CopyBody(Operand From, Operand To) : LayerBody;

    /// <summary>
    /// One kernel call, its arguments in lines as printed (the first after the call's opening parenthesis, the others
    /// indented). With <paramref name="Parts"/>, a large layer: the method hands the call, run per part, to RunParts.
    /// <paramref name="WeightBits"/> 4 or 2: the kernel reads its weights packed (<see cref="PackedWeightsValue"/>), its
    /// type argument the stored form (QuantGenKernels.NibbleWeights, CrumbWeights); 8: no type argument.
    /// </summary>
    internal sealed record KernelCall(KernelLibrary Library, string Kernel, EquatableArray<ArgumentLine> Lines, PartsPlan? Parts = null, int WeightBits = 8) : LayerBody;

    /// <summary>Several kernel calls in order (a Concat: one call per input).</summary>
    internal sealed record KernelCalls(EquatableArray<KernelCall> Calls) : LayerBody;

    /// <summary>The static field holding the part delegate and the method a part runs (identifiers).</summary>
    internal sealed record PartsPlan(string Field, string Method);

    /// <summary>The generated kernel class a call goes to.</summary>
    internal enum KernelLibrary
    {
        /// <summary>QuantGenKernels: the u8 kernels and the float edge layers of every model.</summary>
        Kernels,
        /// <summary>QuantGenWideKernels: the i16 kernels.</summary>
        WideKernels,
        /// <summary>QuantGenFloatKernels: the float layers of float islands.</summary>
        FloatKernels,
    }

    /// <summary>One printed line of a call's arguments.</summary>
    internal sealed record ArgumentLine(EquatableArray<Argument> Arguments);

    /// <summary>One argument: positional (<paramref name="Name"/> null) or named.</summary>
    internal sealed record Argument(string? Name, ArgumentValue Value);

    /// <summary>What an argument passes.</summary>
    internal abstract record ArgumentValue;

    internal sealed record IntValue(int Value) : ArgumentValue;

    internal sealed record FloatValue(float Value) : ArgumentValue;

    internal sealed record BoolValue(bool Value) : ArgumentValue;

    /// <summary>A tensor: a read-only span of its buffer or float parameter, or (output) the span to write.</summary>
    internal sealed record TensorValue(Operand Operand, bool IsOutput) : ArgumentValue;

    /// <summary>A constant blob member, viewed as its element type or as int32/float32 (little-endian bytes).</summary>
    internal sealed record DataValue(string Member, DataView View) : ArgumentValue;

    /// <summary>A static array computed once from constant data (<see cref="DerivedDataPlan"/>), read as a span.</summary>
    internal sealed record DerivedValue(string Field) : ArgumentValue;

    /// <summary>
    /// A constant blob of weights packed <paramref name="Bits"/> (2 or 4) to a byte that the kernel reads as stored,
    /// unpacking in registers (the call's <see cref="KernelCall.WeightBits"/>): the argument is the blob's bytes.
    /// </summary>
    internal sealed record PackedWeightsValue(string Member, int Bits) : ArgumentValue;

    /// <summary>
    /// A static <c>short[]?</c> field passed by <c>ref</c>, which the kernel fills from the layer's constant weights the first
    /// time it takes the path that reads it (a 3×3 conv's Winograd-transformed weights: QuantGenKernels.Winograd.cs), so
    /// that a CPU which never takes it never allocates it.
    /// </summary>
    internal sealed record CacheValue(string Field) : ArgumentValue;

    /// <summary>The empty span (an optional blob the layer does not have, e.g. no clampHigh).</summary>
    internal sealed record EmptyValue : ArgumentValue;

    /// <summary>A scratch field (<c>_col</c>, <c>_acc</c>); the part's own plane inside a split layer's part method.</summary>
    internal sealed record ScratchValue(ScratchBuffer Buffer) : ArgumentValue;

    /// <summary>The part method's own parameter (part, parts).</summary>
    internal sealed record PartValue(bool Count) : ArgumentValue;

    internal enum ScratchBuffer { Col, Acc, PartCol }

    internal enum DataView
    {
        /// <summary>The blob's own element type (sbyte weights, bytes of packed factors).</summary>
        Elements,
        /// <summary>int32, through MemoryMarshal.Cast.</summary>
        Ints,
        /// <summary>float32, through MemoryMarshal.Cast.</summary>
        Floats,
    }

    /// <summary>A tensor as the generated code names it: a float parameter of the method, or a buffer field.</summary>
    internal sealed record Operand(string Name, bool IsParameter, bool IsFloat);

    /// <summary>A named constant blob of the class (the name from the identifier policy).</summary>
    internal sealed record DataPlan(string Member, ArtifactBlob Blob);

    /// <summary>
    /// A static readonly array field of <paramref name="ElementType"/> initialised by a kernel call on constant data when
    /// the class is first used (a factorized layer's factors unpacked into its SIMD kernels' layouts, a packed depthwise
    /// layer's 2- or 4-bit weights unpacked to int8).
    /// </summary>
    internal sealed record DerivedDataPlan(string Field, string ElementType, KernelCall Initializer);

}
