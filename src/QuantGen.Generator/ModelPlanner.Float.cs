using System.Collections.Generic;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    internal sealed partial class ModelPlanner
    {
        /// <summary>
        /// A float layer (docs/artifact.md, "Float layers"): QuantGenFloatKernels calls with shapes and attributes
        /// baked in (FloatLayers.Describe), constant inputs and int arrays as data members, tensors as float buffers.
        /// </summary>
        private LayerBody PlanFloat(ArtifactLayer layer, string method)
        {
            var calls = FloatLayers.Describe(layer, n => _tensors[n]);
            var planned = new List<KernelCall>();
            foreach (var call in calls)
            {
                var args = new List<Argument>();
                foreach (var a in call.Arguments)
                    args.Add(a.Kind switch
                    {
                        FloatArgumentKind.Operand or FloatArgumentKind.OptionalOperand => FloatOperand(layer, method, a.Index, a.Kind == FloatArgumentKind.OptionalOperand),
                        FloatArgumentKind.Output => Pos(Out(layer.Outputs[0])),
                        FloatArgumentKind.Int => Named(a.Name!, a.Value),
                        FloatArgumentKind.Float => Named(a.Name!, new FloatValue(a.FloatValue)),
                        FloatArgumentKind.FloatArray => Pos(new DataValue(DataName(method, "Floats", new ArtifactBlob("floats", BlobType.F32, new(new[] { a.Floats!.Length }), EquatableArray<int>.Empty, new(a.Floats))), DataView.Floats)),
                        _ => Pos(new DataValue(DataName(method, "Ints", new ArtifactBlob("ints", BlobType.I32, new(new[] { a.Ints!.Length }), new(a.Ints), EquatableArray<float>.Empty)), DataView.Ints)),
                    });
                planned.Add(Call(KernelLibrary.FloatKernels, call.Kernel, Line(args.ToArray())));
            }
            return planned.Count == 1 ? planned[0] : new KernelCalls(new(planned.ToArray()));
        }

        /// <summary>ONNX input <paramref name="index"/> of a float layer: its tensor, its constant data as float32, or the empty span.</summary>
        private Argument FloatOperand(ArtifactLayer layer, string method, int index, bool optional)
        {
            int source = FloatLayers.Source(layer, index);
            if (source >= 0) return Pos(In(layer.Inputs[source]));
            if (source == -1)
                return optional ? Pos(new EmptyValue()) : throw new ArtifactFormatException($"Layer '{layer.Name}': input {index} is required.");
            var values = FloatLayers.ConstantFloats(layer, index)!;
            var blob = new ArtifactBlob("constant", BlobType.F32, FloatLayers.ConstantBlob(layer, index).Shape, EquatableArray<int>.Empty, new(values));
            return Pos(new DataValue(DataName(method, "Constant", blob), DataView.Floats));
        }
    }
}
