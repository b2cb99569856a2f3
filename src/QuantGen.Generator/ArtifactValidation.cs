using System.Collections.Generic;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The generator re-validates what it reads: obj/ is writable by anything that can write the project, so an artifact
    /// is input, not a promise. What the emitters rely on without checking it again is checked here, once, and a failure
    /// is QG1031 (never an exception in the generator, never generated code that does not compile or that allocates a
    /// wrapped-around length). The per-kind fields (ints, blobs) are checked where they are read: a missing one throws
    /// ArtifactFormatException or KeyNotFoundException in the emitter, reported as QG1001.
    /// </summary>
    internal static class ArtifactValidation
    {
        /// <summary>The IR's own limit on a tensor's elements (QG0008), so a genuine artifact never exceeds it.</summary>
        public const long MaxElements = 1L << 30;

        /// <summary>The problem with the artifact, or null when the emitters can take it.</summary>
        public static string? Check(QuantizedArtifact artifact)
        {
            if (artifact.Inputs.Count == 0) return "it declares no input";
            if (artifact.Outputs.Count == 0) return "it declares no output";
            if (artifact.Layers.Count == 0) return "it has no layers";

            var tensors = new Dictionary<string, ArtifactTensor>(System.StringComparer.Ordinal);
            foreach (var t in artifact.Tensors)
            {
                if (tensors.ContainsKey(t.Name)) return $"tensor '{t.Name}' is declared twice";
                tensors.Add(t.Name, t);
                long count = 1;
                foreach (int d in t.Shape)
                {
                    if (d < 1) return $"tensor '{t.Name}' has a dimension of {d}";
                    count *= d;
                    if (count > MaxElements) return $"tensor '{t.Name}' has more than {MaxElements} elements";
                }
            }

            var ioTensors = new HashSet<string>(System.StringComparer.Ordinal);
            foreach (var io in Concat(artifact.Inputs, artifact.Outputs))
            {
                if (!tensors.TryGetValue(io.Tensor, out var t)) return $"input or output '{io.Name}' names no tensor ('{io.Tensor}')";
                if (t.ElementType != ArtifactElementType.F32) return $"input or output '{io.Name}' is not a float tensor";
                // One tensor as two parameters of Run would be two parameters of one name.
                if (!ioTensors.Add(io.Tensor)) return $"tensor '{io.Tensor}' is more than one input or output";
            }

            var written = new HashSet<string>(System.StringComparer.Ordinal);
            foreach (var layer in artifact.Layers)
            {
                if (layer.Outputs.Count == 0) return $"layer '{layer.Name}' has no output";
                foreach (var name in Concat(layer.Inputs, layer.Outputs))
                    if (!tensors.ContainsKey(name)) return $"layer '{layer.Name}' names an undeclared tensor '{name}'";
                foreach (var name in layer.Outputs)
                    if (!written.Add(name)) return $"tensor '{name}' is written by two layers";
            }
            return null;
        }

        private static IEnumerable<T> Concat<T>(EquatableArray<T> a, EquatableArray<T> b) where T : System.IEquatable<T>
        {
            foreach (var x in a) yield return x;
            foreach (var x in b) yield return x;
        }
    }
}
