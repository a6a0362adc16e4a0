using System.Globalization;
using System.Text;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Serialises a small object tree exactly as Python's <c>json.dumps(obj, indent=2, sort_keys=True)</c> does, which is
/// how transformers writes config.json, generation_config.json, preprocessor_config.json and the shard index.
/// Matching it byte for byte lets synthetic model folders look like real ones (sizes included).
/// Values: <see cref="IReadOnlyDictionary{TKey,TValue}"/> of string keys, <see cref="System.Collections.IEnumerable"/> lists,
/// string, bool, int, long, double (Python float repr), <see cref="PythonFloat"/>, null.
/// </summary>
internal static class PythonStyleJson
{
    /// <summary>A float that Python would print (e.g. <c>8.0</c>, <c>1e-05</c>), kept apart from ints.</summary>
    public readonly record struct PythonFloat(double Value);

    public static string Serialize(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int depth)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(FloatRepr(d));
                break;
            case PythonFloat f:
                sb.Append(FloatRepr(f.Value));
                break;
            case IReadOnlyDictionary<string, object?> map:
                if (map.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append("{\n");
                bool first = true;
                foreach (var key in map.Keys.Order(StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        sb.Append(",\n");
                    }
                    first = false;
                    sb.Append(' ', 2 * (depth + 1));
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, map[key], depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append('}');
                break;
            case System.Collections.IEnumerable items:
                var list = items.Cast<object?>().ToList();
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append("[\n");
                for (int k = 0; k < list.Count; k++)
                {
                    if (k > 0)
                    {
                        sb.Append(",\n");
                    }
                    sb.Append(' ', 2 * (depth + 1));
                    Write(sb, list[k], depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append(']');
                break;
            default:
                throw new ArgumentException($"Cannot serialise {value.GetType()}.");
        }
    }

    /// <summary>Python's float repr: shortest round-trip digits, ".0" for integral values, exponent form outside 1e-4 ≤ |x| &lt; 1e16.</summary>
    internal static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0)
        {
            return double.IsNegative(d) ? "-0.0" : "0.0";
        }
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        // Split into digits and decimal exponent, then lay out as Python's repr does.
        string mantissa = r;
        int exponent = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            mantissa = r[..e];
            exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        }
        bool negative = mantissa.StartsWith('-');
        mantissa = mantissa.TrimStart('-');
        int dot = mantissa.IndexOf('.');
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointPos = (dot < 0 ? mantissa.Length : dot) + exponent; // position of the decimal point within digits
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
            pointPos--;
        }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }
        int decExp = pointPos - 1; // scientific exponent
        string body;
        if (decExp < -4 || decExp >= 16)
        {
            string frac = digits.Length > 1 ? "." + digits[1..] : "";
            body = $"{digits[0]}{frac}e{(decExp < 0 ? "-" : "+")}{Math.Abs(decExp):00}";
        }
        else if (pointPos <= 0)
        {
            body = "0." + new string('0', -pointPos) + digits;
        }
        else if (pointPos >= digits.Length)
        {
            body = digits + new string('0', pointPos - digits.Length) + ".0";
        }
        else
        {
            body = digits[..pointPos] + "." + digits[pointPos..];
        }
        return negative ? "-" + body : body;
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7f)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }
}
