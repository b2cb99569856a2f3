using System;
using System.Collections.Generic;
using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// Chooses, at generation time, which u8 image tensors the generated code keeps channels-last (NHWC) instead of the
    /// artifact's NCHW. The artifact's semantics stay NCHW (docs/artifact.md); only the generated buffers change order.
    /// NHWC puts a pixel's channels next to each other, so a 1×1 convolution reads its input row in place, a k×k
    /// receptive field is KH contiguous runs, and pooling, depthwise and Add run over channels with vectors.
    /// </summary>
    /// <remarks>
    /// A tensor is NHWC only where every layer touching it can take NHWC; everything else keeps NCHW, so an unusual
    /// graph is slower, never wrong. Conv, FactorizedConv, MaxPool, AveragePool and Add run in one layout for all their image operands;
    /// Quantize and Dequantize transpose at the model's edges; a Reshape flattening an NHWC image into the rows of
    /// (factorized) FullyConnected layers only is allowed, and those layers get their weight columns permuted at generation time.
    /// A tensor with one channel or one pixel has the same byte order either way ("layout-free") and never constrains.
    /// </remarks>
    internal sealed class ActivationLayout
    {
        private readonly HashSet<string> _nhwc;
        private readonly Dictionary<string, ArtifactTensor> _tensors;
        private readonly Dictionary<string, ArtifactLayer> _producers;
        private readonly bool _byteActivations;

        private ActivationLayout(HashSet<string> nhwc, Dictionary<string, ArtifactTensor> tensors, Dictionary<string, ArtifactLayer> producers, bool byteActivations)
        {
            _nhwc = nhwc;
            _tensors = tensors;
            _producers = producers;
            _byteActivations = byteActivations;
        }

        /// <summary>True when the tensor's buffer holds [N, H, W, C] (and the order differs from NCHW).</summary>
        public bool IsNhwc(string tensor) => _nhwc.Contains(tensor);

        /// <summary>
        /// True when a layer's image operands are NHWC (or layout-free): it runs the channels-last kernel. Only u8 models
        /// have channels-last kernels: in a model with 16-bit activations every layer runs NCHW.
        /// </summary>
        public bool RunsNhwc(ArtifactLayer layer) =>
            _byteActivations && layer.Inputs.Concat(layer.Outputs).All(t => !Constrains(_tensors[t]) || _nhwc.Contains(t));

        /// <summary>
        /// For a FullyConnected input that is the flatten of an NHWC image: that image's [N, C, H, W]. The layer's weight
        /// columns must then be permuted from (c, h, w) to (h, w, c) order.
        /// </summary>
        public int[]? FlattenedNhwcSource(string tensor) =>
            _producers.TryGetValue(tensor, out var reshape) && reshape.Kind == LayerKinds.Reshape && _nhwc.Contains(reshape.Inputs[0])
                ? _tensors[reshape.Inputs[0]].Shape.AsArray()
                : null;

        public static ActivationLayout Choose(QuantizedArtifact artifact)
        {
            var tensors = artifact.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            var producers = new Dictionary<string, ArtifactLayer>(StringComparer.Ordinal);
            var consumers = new Dictionary<string, List<ArtifactLayer>>(StringComparer.Ordinal);
            foreach (var layer in artifact.Layers)
            {
                foreach (var output in layer.Outputs) producers[output] = layer;
                foreach (var input in layer.Inputs)
                {
                    if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = new List<ArtifactLayer>();
                    list.Add(layer);
                }
            }

            var nhwc = new HashSet<string>(artifact.Tensors.Where(Constrains).Select(t => t.Name), StringComparer.Ordinal);
            bool changed = true;
            while (changed)
            {
                changed = false;
                foreach (var layer in artifact.Layers)
                {
                    var operands = layer.Inputs.Concat(layer.Outputs).Where(t => Constrains(tensors[t])).ToList();
                    bool keep = layer.Kind switch
                    {
                        // One layout for all image operands: NHWC only if none of them was demoted.
                        LayerKinds.Conv or LayerKinds.FactorizedConv or LayerKinds.MaxPool or LayerKinds.AveragePool or LayerKinds.Add or LayerKinds.Lookup
                            or LayerKinds.Concat or LayerKinds.Resize => operands.All(nhwc.Contains),
                        // Constants and broadcasts along the channels (or along nothing) index channels-last too.
                        LayerKinds.Affine or LayerKinds.Mul => operands.All(nhwc.Contains) && (operands.Count == 0 || ChannelsLastBroadcast(layer, tensors)),
                        // The model's edges transpose while converting; a Remap's map is permuted to its buffers' layouts.
                        LayerKinds.Quantize or LayerKinds.Dequantize or LayerKinds.Remap => true,
                        // A flatten [N,C,H,W] → [N, C·H·W] read only as (factorized) FullyConnected rows: the weights absorb the order.
                        LayerKinds.Reshape => operands.Count == 0 || (operands.Count == 1 && operands[0] == layer.Inputs[0]
                            && IsFlatten(tensors[layer.Inputs[0]], tensors[layer.Outputs[0]])
                            && consumers.TryGetValue(layer.Outputs[0], out var readers) && readers.All(r => r.Kind is LayerKinds.FullyConnected or LayerKinds.FactorizedFullyConnected)),
                        // Every other kind (and any kind added later) sees NCHW.
                        _ => operands.Count == 0,
                    };
                    if (keep) continue;
                    foreach (var t in operands) changed |= nhwc.Remove(t);
                }
            }
            return new ActivationLayout(nhwc, tensors, producers, !artifact.Tensors.Any(t => t.ElementType == ArtifactElementType.I16));
        }

        /// <summary>
        /// An Affine whose constants are one value or one per channel of an image, or a Mul whose second input is the
        /// first's shape, [N, C, 1, 1], [N, 1, 1, 1] or one value: the kernels have a channels-last form of these.
        /// </summary>
        private static bool ChannelsLastBroadcast(ArtifactLayer layer, Dictionary<string, ArtifactTensor> tensors)
        {
            var shape = tensors[layer.Inputs[0]].Shape;
            if (shape.Count != 4) return false;
            int pixels = shape[2] * shape[3];
            if (layer.Kind == LayerKinds.Affine)
            {
                int[] broadcast = layer.GetInts("broadcast");
                return broadcast[0] == 1 || (broadcast[0] == shape[1] && broadcast[1] == pixels);
            }
            int inner = layer.GetInt("inner");
            return inner == 1 || inner == pixels || inner == shape[1] * pixels || inner == shape[0] * shape[1] * pixels;
        }

        /// <summary>A u8 image [N, C, H, W] whose NHWC order differs from NCHW: more than one channel and more than one pixel.</summary>
        private static bool Constrains(ArtifactTensor t) =>
            t.ElementType == ArtifactElementType.U8 && t.Shape.Count == 4 && t.Shape[1] > 1 && t.Shape[2] * t.Shape[3] > 1;

        private static bool IsFlatten(ArtifactTensor image, ArtifactTensor rows) =>
            rows.Shape.Count == 2 && rows.Shape[0] == image.Shape[0] && rows.Shape[1] == image.Shape[1] * image.Shape[2] * image.Shape[3];
    }
}
