using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace QuantGen.Tests.Security;

/// <summary>
/// Enforces the rule of docs/security.md, "Names never become code" on the emitters' source: text reaches generated code only as a literal,
/// a number (Int, Float), an identifier from the identifier policy, or a name through SafeText (Comment, Doc, Literal).
/// Every interpolation hole and every concatenated operand of the emitters is checked against that list; a hole that
/// is not on it (say <c>{layer.Name}</c>, or a new local holding a name) fails with its file and line.
/// </summary>
public sealed class NamesNeverBecomeCodeTests
{
    private static readonly string[] EmitterFiles =
    [
        "ModelPlanner.cs", "ModelPlanner.Factorized.cs", "ModelPlanner.Float.cs", "ModelPlanner.Packed.cs", "ModelPrinter.cs", "ConstantData.cs", "IoMembers.cs",
    ];

    /// <summary>Calls whose result is safe to print: escaping, numbers, identifiers, code fragments built from those.</summary>
    private static readonly HashSet<string> SafeCalls =
    [
        // Names, escaped (SafeText through CSharpLiterals).
        "Comment", "Doc", "Literal",
        // Numbers, invariant.
        "Int", "Float", "CSharpLiterals.Int",
        // Code built from identifiers and numbers only.
        "In", "Out", "Ints", "Floats", "WeightBlobs", "DataName", "ElementType", "Index", "centred", "BlobEmbedding.PackedLiteral",
        "Value",
        // The type argument of a packed-weights kernel: one of two fixed type names, chosen by an int.
        "WeightForm",
        "Identifiers.Camel", "Identifiers.Pascal",
        // The body of CSharpLiterals.Float.
        "v.ToString",
    ];

    /// <summary>Calls that make any string safe: a concatenation inside them is their input, not generated text.</summary>
    private static readonly HashSet<string> EscapingCalls = ["Comment", "Doc", "Literal", "Identifiers.Pascal", "Identifiers.Camel"];

    /// <summary>Locals and fields that hold identifiers (from Identifiers/UniqueNames), C# type names or code built from them.</summary>
    private static readonly HashSet<string> SafeIdentifiers =
    [
        "Kernels", "FloatKernels", "Span", "ReadOnlySpan", "ReadOnlyCollection", "method", "prefix", "p", "field", "type", "element", "name", "parts", "partMethod",
        "shape", "length", "requantize", "indices", "j", "outIndex", "negative", "description", "dataName", "weightData", "scale",
        "high", "bias", "mult", "shift", "multiplier", "negMultiplier", "negShift", "zMultiplier", "zShift", "aValuesData",
        "aIndicesData", "bValuesData", "bIndicesData", "suffix", "declaration", "values", "perLine",
        "_plan.ClassName", "_plan.Namespace", "_plan.Declaration", "index++",
        // The identifiers of a ModelPlan (ModelPlanner takes them from the identifier policy; model names stay in the
        // plan's raw fields, Name, Kind, Comment, Tensor, Pool, which the printer passes through Doc/Comment/Literal).
        "declaration.Namespace", "declaration.Declaration", "declaration.ClassName", "_plan.Declaration.ClassName", "buffer.Field",
        "io.Parameter", "io.Prefix", "layer.Method", "p.Name", "library", "call.Kernel", "parts.Field", "parts.Method", "argument.Name",
        "operand.Name", "bIndices", "aIndices",
        // A derived array: its field from the identifier policy, its element type one of the planner's keywords (sbyte, int, short).
        "derived.Field", "derived.ElementType",
        // A kernel's weight cache (CacheValue): its field from the identifier policy.
        "cache.Field",
    ];

    /// <summary>Joined sequences whose elements are identifiers or shapes (exact text).</summary>
    private static readonly HashSet<string> SafeJoins =
    [
        "parameters", "args", "FloatArgs(layer)", "layer.Inputs.Select(Describe)", "layer.Outputs.Select(Describe)",
        "_tensors[io.Tensor].Shape.Select(Int)", "io.Shape.Select(Int)", "layer.Parameters.Select(p => p.Name)", "values.Skip(i).Take(perLine)", "blob.Shape.Select(CSharpLiterals.Int)",
    ];

    [Fact]
    public void EveryHoleInTheEmittersIsALiteralANumberAnIdentifierOrEscaped()
    {
        var problems = new List<string>();
        int holes = 0;
        foreach (var file in EmitterFiles)
        {
            var path = Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Generator", file);
            var root = CSharpSyntaxTree.ParseText(File.ReadAllText(path)).GetRoot();
            foreach (var hole in Holes(root))
            {
                holes++;
                if (!IsSafe(hole))
                    problems.Add($"{file}:{hole.GetLocation().GetLineSpan().StartLinePosition.Line + 1}: {hole}");
            }
        }
        // 137 when the factorized layers became kernel calls (their printed loops had ~40 holes): a floor well below that.
        Assert.True(holes > 110, $"only {holes} holes found: the scan no longer sees the emitters' code");
        Assert.True(problems.Count == 0,
            "Text that reaches generated code without SafeText (Comment/Doc/Literal), Int/Float or an identifier:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void TheScanCatchesARawName()
    {
        var root = CSharpSyntaxTree.ParseText("""
            class E
            {
                void M(CodeWriter w, ArtifactLayer layer, string tensor)
                {
                    w.Line($"// {layer.Name}");
                    w.Line($"// {tensor}");
                    w.Line("/// " + layer.Comment);
                    w.Line($"// {Comment(layer.Name)} {Int(3)} {method}");
                }
            }
            """).GetRoot();
        Assert.Equal(["layer.Name", "tensor", "layer.Comment"], Holes(root).Where(h => !IsSafe(h)).Select(h => h.ToString()));
    }

    /// <summary>
    /// Interpolation holes of every interpolated string, and the operands of every '+' concatenation with a string
    /// literal, outside exception messages (those are diagnostics: the generator escapes them when it reports them).
    /// </summary>
    private static IEnumerable<ExpressionSyntax> Holes(SyntaxNode root)
    {
        foreach (var node in root.DescendantNodes())
        {
            if (node.Ancestors().Any(a => a is ThrowStatementSyntax or ThrowExpressionSyntax)) continue;
            if (node is InterpolationSyntax interpolation)
                yield return interpolation.Expression;
            else if (node is BinaryExpressionSyntax { RawKind: (int)SyntaxKind.AddExpression } add && add.Parent is not BinaryExpressionSyntax { RawKind: (int)SyntaxKind.AddExpression }
                     && !add.Ancestors().OfType<InvocationExpressionSyntax>().Any(call => EscapingCalls.Contains(call.Expression.ToString()))
                     && Operands(add).Any(o => o is LiteralExpressionSyntax { RawKind: (int)SyntaxKind.StringLiteralExpression } or InterpolatedStringExpressionSyntax))
            {
                foreach (var operand in Operands(add))
                    if (operand is not LiteralExpressionSyntax and not InterpolatedStringExpressionSyntax) yield return operand;
            }
        }
    }

    private static IEnumerable<ExpressionSyntax> Operands(ExpressionSyntax e) =>
        e is BinaryExpressionSyntax { RawKind: (int)SyntaxKind.AddExpression } b ? Operands(b.Left).Concat(Operands(b.Right)) : [e];

    private static bool IsSafe(ExpressionSyntax e)
    {
        switch (e)
        {
            case LiteralExpressionSyntax:
                return true;
            case InterpolatedStringExpressionSyntax:
                return true; // its own holes are checked separately
            case ParenthesizedExpressionSyntax p:
                return IsSafe(p.Expression);
            case ConditionalExpressionSyntax c:
                return IsSafe(c.WhenTrue) && IsSafe(c.WhenFalse);
            case BinaryExpressionSyntax { RawKind: (int)SyntaxKind.AddExpression } b:
                return Operands(b).All(IsSafe);
            case BinaryExpressionSyntax b when b.IsKind(SyntaxKind.CoalesceExpression):
                return false;
            case IdentifierNameSyntax or MemberAccessExpressionSyntax or PostfixUnaryExpressionSyntax when SafeIdentifiers.Contains(e.ToString()):
                return true;
            case ElementAccessExpressionSyntax element:
                // Lookups in the maps from tensor to identifier (parameter or buffer field).
                return element.Expression.ToString() is "_floatParameters" or "_buffers" || IsSafe(element.Expression);
            case InvocationExpressionSyntax call:
            {
                var callee = call.Expression.ToString();
                if (SafeCalls.Contains(callee)) return true;
                if (callee == "string.Join")
                    return call.ArgumentList.Arguments.Count == 2 && IsSafe(call.ArgumentList.Arguments[0].Expression)
                        && SafeJoins.Contains(call.ArgumentList.Arguments[1].Expression.ToString());
                // x.TrimStart('@') and x.Substring(…) of a safe x stay safe.
                if (call.Expression is MemberAccessExpressionSyntax { Name.Identifier.Text: "TrimStart" or "Substring" } m)
                    return IsSafe(m.Expression);
                if (callee == "char.ToLowerInvariant") return IsSafe(call.ArgumentList.Arguments[0].Expression);
                return false;
            }
            default:
                return false;
        }
    }
}
