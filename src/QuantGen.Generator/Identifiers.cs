using System.Collections.Generic;
using System.Text;

namespace QuantGen.Generator
{
    /// <summary>Turns ONNX names (any characters) into C# identifiers.</summary>
    internal static class Identifiers
    {
        /// <summary>"fashion_cnn" → "FashionCnn", "/conv1/Conv" → "Conv1Conv".</summary>
        public static string Pascal(string name)
        {
            var sb = new StringBuilder();
            bool upper = true;
            foreach (char c in name)
            {
                if (char.IsLetterOrDigit(c) && c < 128)
                {
                    sb.Append(upper ? char.ToUpperInvariant(c) : c);
                    upper = false;
                }
                else upper = true;
            }
            if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "Model");
            return sb.ToString();
        }

        /// <summary>camelCase for parameters, avoiding C# keywords.</summary>
        public static string Camel(string name)
        {
            var pascal = Pascal(name);
            var camel = char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
            return Keywords.Contains(camel) ? "@" + camel : camel;
        }

        /// <summary>Makes names unique by suffixing _2, _3, ... in order of first use.</summary>
        public sealed class UniqueNames
        {
            private readonly HashSet<string> _used = new();

            public string Take(string name)
            {
                var candidate = name;
                for (int i = 2; !_used.Add(candidate); i++) candidate = name + "_" + i;
                return candidate;
            }
        }

        private static readonly HashSet<string> Keywords = new()
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
            "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
            "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
            "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
            "using", "virtual", "void", "volatile", "while",
        };
    }
}
