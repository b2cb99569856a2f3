using System.Collections.Generic;
using System.Linq;
using static QuantGen.Generator.CSharpLiterals;

namespace QuantGen.Generator
{
    /// <summary>
    /// The static members that describe one model input or output: <c>{prefix}Length</c>, a constant usable in array
    /// sizes, and <c>{prefix}Shape</c>, a read-only list (indexable, enumerable, so <c>string.Join(",", Model.InputShape)</c>
    /// works). Both are static because they describe the class, not an instance: every instance has the same shapes.
    /// </summary>
    internal static class IoMembers
    {
        private const string ReadOnlyCollection = "global::System.Collections.ObjectModel.ReadOnlyCollection<int>";

        /// <param name="w"></param>
        /// <param name="prefix">Input/Output for a single-input single-output model, else the tensor's member name.</param>
        /// <param name="tensorName">The tensor's name in the model (untrusted: printed only through <c>Doc</c>).</param>
        /// <param name="isInput"></param>
        /// <param name="dimensions"></param>
        /// <param name="elementCount"></param>
        public static void Write(CodeWriter w, string prefix, string tensorName, bool isInput, IReadOnlyList<int> dimensions, int elementCount)
        {
            var description = $"<c>{Doc(tensorName)}</c>";
            var shape = string.Join(", ", dimensions.Select(Int));
            var field = "s_" + Identifiers.Camel(prefix).TrimStart('@') + "Shape";
            w.Line($"/// <summary>Number of floats in {(isInput ? "input" : "output")} {description}, shape [{shape}].</summary>");
            w.Line($"public const int {prefix}Length = {Int(elementCount)};");
            w.Line();
            w.Line($"private static readonly {ReadOnlyCollection} {field} = new {ReadOnlyCollection}(new int[] {{ {shape} }});");
            w.Line();
            w.Line($"/// <summary>Shape of {(isInput ? "input" : "output")} {description}: [{shape}].</summary>");
            w.Line($"public static global::System.Collections.Generic.IReadOnlyList<int> {prefix}Shape => {field};");
            w.Line();
        }
    }
}
