using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The Remap kind (docs/artifact.md): data movement as an index map over NCHW element positions. The buffers may be
    /// channels-last on either side, so the map is rewritten here to buffer positions: output buffer position P_y(i)
    /// reads input buffer position P_x(map[i]), P the NCHW → NHWC permutation for a channels-last tensor and the identity
    /// otherwise. One kernel, any layout on either side, so a Remap never forces its neighbours to NCHW.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private KernelCall PlanRemap(ArtifactLayer layer, string method, string x, string y, out LayerLayout layout)
        {
            bool inNhwc = _layout.IsNhwc(x), outNhwc = _layout.IsNhwc(y);
            layout = inNhwc || outNhwc ? LayerLayout.Nhwc : LayerLayout.Nchw;
            var blob = layer.GetBlob("map");
            var map = blob.Values.AsArray();
            if (inNhwc || outNhwc)
            {
                int[] inShape = _tensors[x].Shape.AsArray(), outShape = _tensors[y].Shape.AsArray();
                var buffered = new int[map.Length];
                for (int i = 0; i < map.Length; i++)
                {
                    int from = map[i];
                    buffered[outNhwc ? ChannelsLastPosition(i, outShape) : i] = from < 0 || !inNhwc ? from : ChannelsLastPosition(from, inShape);
                }
                blob = new ArtifactBlob(blob.Key, blob.Type, blob.Shape, new EquatableArray<int>(buffered), blob.FloatValues);
            }
            return Call(Library, "Remap", Line(Pos(In(x)), Pos(Out(y)), Pos(MapValue(method, blob, _tensors[y].Shape.AsArray(), outNhwc)), Named("fill", layer.GetInt("fill"))));
        }

        /// <summary>
        /// The map argument: stored as row templates and rebuilt once per process (RemapRows) when that at least halves
        /// its ints, else as the plain array. Either way the kernel reads the same map, so the results cannot differ.
        /// </summary>
        private ArgumentValue MapValue(string method, ArtifactBlob blob, int[] shape, bool outNhwc)
        {
            var bufferShape = outNhwc && shape.Length == 4 ? new[] { shape[0], shape[2], shape[3], shape[1] } : shape;
            if (RemapRows.Encode(blob.Values.AsArray(), bufferShape) is not { } rows)
                return new DataValue(DataName(method, "Map", blob), DataView.Ints);
            var templates = DataName(method, "MapTemplates", IntBlob("templates", rows.Templates));
            var starts = DataName(method, "MapRows", IntBlob("rows", rows.Rows));
            return Derived(method + "Map", "int", Call(KernelLibrary.Kernels, "RemapRows",
                Line(Pos(new DataValue(templates, DataView.Ints)), Pos(new DataValue(starts, DataView.Ints)), Named("rowLength", rows.RowLength))));
        }

        private static ArtifactBlob IntBlob(string key, int[] values) =>
            new(key, BlobType.I32, new EquatableArray<int>(new[] { values.Length }), new EquatableArray<int>(values), EquatableArray<float>.Empty);

        /// <summary>Where NCHW element <paramref name="index"/> of a [N, C, H, W] tensor sits in its channels-last buffer.</summary>
        private static int ChannelsLastPosition(int index, int[] shape)
        {
            int c = shape[1], pixels = shape[2] * shape[3];
            int n = index / (c * pixels), rest = index % (c * pixels);
            int channel = rest / pixels, pixel = rest % pixels;
            return (n * pixels + pixel) * c + channel;
        }
    }
}
