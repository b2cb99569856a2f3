using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>C# literals as every emitter writes them: invariant culture, round-trip floats, safe strings and XML docs.</summary>
    internal static class CSharpLiterals
    {
        public static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>Round-trip float literal; "R" keeps the artifact's exact value.</summary>
        // Non-finite values have no literal ("Infinityf" does not compile: fuzzing found a model quantized to one).
        public static string Float(float v) =>
            float.IsNaN(v) ? "global::System.Single.NaN"
            : float.IsPositiveInfinity(v) ? "global::System.Single.PositiveInfinity"
            : float.IsNegativeInfinity(v) ? "global::System.Single.NegativeInfinity"
            : v.ToString("R", CultureInfo.InvariantCulture) + "f";

        // Names reach generated text only through these three (SafeText: every line terminator, control and bidi char
        // escaped) or as identifiers from Identifiers; NamesNeverBecomeCodeTests scans the emitters for anything else.

        /// <summary>A name in a // comment.</summary>
        public static string Comment(string name) => SafeText.Comment(name);

        /// <summary>A name in a /// XML doc comment.</summary>
        public static string Doc(string name) => SafeText.DocComment(name);

        /// <summary>A name inside a "…" string literal.</summary>
        public static string Literal(string name) => SafeText.StringLiteral(name);
    }

    /// <summary>
    /// One constant blob as a static <c>ReadOnlySpan</c> property: an array initializer (static RVA data) when small, a
    /// string literal packing two bytes per char when large (<see cref="BlobEmbedding"/>). Shared by the 8-bit and the
    /// 16-bit emitters so both embed weights the same way.
    /// </summary>
    internal static class ConstantData
    {
        private const string ReadOnlySpan = "global::System.ReadOnlySpan";

        public static void WriteBlob(CodeWriter w, string name, ArtifactBlob blob, byte[] bytes)
        {
            var shape = string.Join(",", blob.Shape.Select(CSharpLiterals.Int));
            var (description, element) = blob.Type switch
            {
                // ModelPlanner.PackBits: the values are bytes of 2- or 4-bit fields, the shape the weights they hold.
                BlobType.I8 when blob.Key is "packed2" or "packed4" => ($"int8 weights [{shape}] stored {(blob.Key == "packed2" ? "2" : "4")} bits each", "sbyte"),
                BlobType.I8 => ($"int8 [{shape}]", "sbyte"),
                BlobType.U8 => ($"uint8 [{shape}]", "byte"),
                BlobType.F32 => ($"float32 [{shape}], little-endian bytes", "byte"),
                _ => ($"int32 [{shape}], little-endian bytes", "byte"),
            };
            if (BlobEmbedding.IsPacked(bytes.Length))
            {
                w.Line($"/// <summary>{description}: {CSharpLiterals.Int(bytes.Length)} bytes packed two per char.</summary>");
                w.Line($"private static {ReadOnlySpan}<{element}> {name} =>");
                w.Line($"    global::System.Runtime.InteropServices.MemoryMarshal.Cast<char, {element}>(global::System.MemoryExtensions.AsSpan(");
                w.Line($"        {BlobEmbedding.PackedLiteral(bytes)})).Slice(0, {CSharpLiterals.Int(bytes.Length)});");
            }
            else
            {
                w.Line($"/// <summary>{description}.</summary>");
                var values = blob.Type == BlobType.I8 ? bytes.Select(b => CSharpLiterals.Int(unchecked((sbyte)b))) : bytes.Select(b => CSharpLiterals.Int(b));
                WriteArray(w, $"private static {ReadOnlySpan}<{element}> {name} => new {element}[]", values.ToList(), 32);
            }
        }

        public static void WriteArray(CodeWriter w, string declaration, List<string> values, int perLine)
        {
            if (values.Count == 0)
            {
                w.Line(declaration + " { };");
                return;
            }
            w.Line(declaration);
            w.Line("{");
            for (int i = 0; i < values.Count; i += perLine)
                w.Line("    " + string.Join(", ", values.Skip(i).Take(perLine)) + ",");
            w.Line("};");
        }
    }
}
