using QuantGen.Core.Artifact;
using QuantGen.Generated;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The simulator's float layers whose float kernel computes its own function rather than the reference operator's
/// (QuantGenFloatKernels.Math.cs: Sigmoid, Tanh, Exp and Log as float32 polynomials, Softmax and GlobalAveragePool
/// with a fixed summation order; QuantGenFloatKernels.Statistics.cs: ReduceMean, ReduceMax and LayerNormalization with
/// their double sums in a fixed order): the simulator calls that kernel (the one the generated class emits, from the
/// QuantGen.Kernels project), so the generated class and the simulator stay bit-identical. The quantizer's passes and
/// the ReferenceExecutor (compared with ONNX Runtime) keep the reference operators; the two agree within the kernels'
/// documented error (docs/generator.md, "Float math").
/// </summary>
internal static partial class FloatIslands
{
    /// <summary>The ops whose artifact layer the simulator runs through its float kernel (see the class summary).</summary>
    private static readonly HashSet<string> KernelOps = new(StringComparer.Ordinal) { "Sigmoid", "Tanh", "Exp", "Log", "Softmax", "GlobalAveragePool", "ReduceMean", "ReduceMax", "LayerNormalization" };

    /// <summary>
    /// An artifact float layer as the generated class computes it: through its float kernel for the ops in
    /// <see cref="KernelOps"/>, through the reference operator for the rest (bit-identical there by construction).
    /// </summary>
    public static float[] Execute(ArtifactLayer layer, Func<string, (float[] Data, int[] Shape)> read, Func<string, ArtifactTensor> tensor)
    {
        if (!KernelOps.Contains(FloatLayers.OpOf(layer.Kind)!)) return Execute(layer, read);
        var calls = FloatLayers.Describe(layer, tensor);
        var y = new float[tensor(layer.Outputs[0]).ElementCount];
        foreach (var call in calls)
        {
            var a = call.Arguments;
            if (a[0].Kind != FloatArgumentKind.Operand || FloatLayers.Source(layer, a[0].Index) < 0) return Execute(layer, read);
            float[] In(int i)
            {
                int source = FloatLayers.Source(layer, a[i].Index);
                return source >= 0 ? read(layer.Inputs[source]).Data : source == -2 ? FloatLayers.ConstantFloats(layer, a[i].Index)! : [];
            }
            switch (call.Kernel)
            {
                case "Unary": QuantGenFloatKernels.Unary(In(0), y, a[2].Value, a[3].FloatValue, a[4].FloatValue); break;
                case "Softmax": QuantGenFloatKernels.Softmax(In(0), y, a[2].Value, a[3].Value, a[4].Value); break;
                case "GlobalPool": QuantGenFloatKernels.GlobalPool(In(0), y, a[2].Value, a[3].Value, a[4].Value); break;
                case "Reduce": QuantGenFloatKernels.Reduce(In(0), y, a[2].Ints, a[3].Ints, a[4].Ints, a[5].Ints, a[6].Value); break;
                case "LayerNorm": QuantGenFloatKernels.LayerNorm(In(0), In(1), In(2), y, a[4].Value, a[5].Value, a[6].FloatValue); break;
                default: return Execute(layer, read);
            }
        }
        return y;
    }
}
