using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The MatMul kind (docs/artifact.md): a product of two computed u8 tensors. Its operands are NCHW (ActivationLayout
    /// does not list the kind); the batch broadcast is planned here once, as the pairs of A's and B's matrix indices per
    /// output matrix (ArtifactGeometry.MatMulBatches), a constant member the kernel reads.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private KernelCall PlanMatMul(ArtifactLayer layer, string method, string y)
        {
            string a = layer.Inputs[0], b = layer.Inputs[1];
            ArtifactTensor aT = _tensors[a], bT = _tensors[b], outT = _tensors[y];
            var pairs = ArtifactGeometry.MatMulBatches(aT.Shape.AsArray(), bT.Shape.AsArray(), out _)!;
            var batches = new ArtifactBlob("batches", BlobType.I32, new EquatableArray<int>(new[] { pairs.Length }), new EquatableArray<int>(pairs), EquatableArray<float>.Empty);
            int[] clamp = layer.GetInts("clamp");
            return Call(Library, "MatMul",
                Line(Pos(In(a)), Pos(In(b)), Pos(Out(y)), Pos(new DataValue(DataName(method, "Batches", batches), DataView.Ints)),
                    Named("m", aT.Shape[aT.Shape.Count - 2]), Named("k", aT.Shape[aT.Shape.Count - 1]), Named("n", bT.Shape[bT.Shape.Count - 1])),
                Line(Named("za", aT.ZeroPoint), Named("zb", bT.ZeroPoint), Named("multiplier", layer.GetInt("multiplier")), Named("shift", layer.GetInt("shift")),
                    Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1])));
        }
    }
}
