using System.Reflection;

namespace Comety.Tests;

/// <summary>
/// The slow areas carry a <c>Category</c> trait named after their folder, so that the README's
/// quick filter (<c>Category!=Browser&amp;Category!=Sample&amp;Category!=Packaging&amp;Category!=LoadTest</c>)
/// leaves them out; a new test class there without the trait would slip into the quick run.
/// The PostgreSQL tests are quick and stay in the quick run, but they need PostgreSQL's server
/// programs on the machine, so they carry their folder's category too: <c>Category=PostgreSql</c>
/// runs them alone, and <c>Category!=PostgreSql</c> leaves them out where PostgreSQL is not installed.
/// </summary>
public sealed class TestCategoryTests
{
    private static readonly string[] SlowAreas = ["Browser", "Sample", "Packaging", "LoadTest"];
    private static readonly string[] CategorizedAreas = [.. SlowAreas, "PostgreSql"];

    [Fact]
    public void Every_test_class_of_a_categorized_area_has_its_category_and_no_other_class_has_one()
    {
        var wrong = new List<string>();
        foreach (var type in TestClasses())
        {
            var area = type.Namespace?.Split('.').ElementAtOrDefault(2);
            var expected = CategorizedAreas.Contains(area) ? area : null;
            var categories = Categories(type);
            if (expected is null ? categories.Count != 0 : !categories.SequenceEqual([expected]))
            {
                wrong.Add($"{type.FullName}: Category {(categories.Count == 0 ? "none" : string.Join(", ", categories))}, expected {expected ?? "none"}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static IEnumerable<Type> TestClasses() =>
        typeof(TestCategoryTests).Assembly.GetTypes().Where(type => type.GetMethods().Any(method => method.IsDefined(typeof(FactAttribute), inherit: true)));

    private static List<string> Categories(Type type) =>
        type.GetCustomAttributesData()
            .Where(attribute => attribute.AttributeType == typeof(TraitAttribute) && (string?)attribute.ConstructorArguments[0].Value == "Category")
            .Select(attribute => (string)attribute.ConstructorArguments[1].Value!)
            .ToList();
}
