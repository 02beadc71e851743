using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Comety.Chat.Chat.PostgreSql;

/// <summary>
/// ASP.NET Core's data-protection keys in a table, so that every server of the cluster protects
/// and unprotects with the same keys: a session cookie or an antiforgery token one server issued
/// is read by the others. (The keys are stored unencrypted, as the default file repository does
/// on Linux; a production application would encrypt them at rest.)
/// </summary>
public sealed class PostgreSqlXmlRepository(NpgsqlDataSource db) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = db.CreateCommand($"SELECT xml FROM {ChatDatabase.Schema}.data_protection_keys ORDER BY name");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = db.CreateCommand($"INSERT INTO {ChatDatabase.Schema}.data_protection_keys (name, xml) VALUES (@name, @xml) ON CONFLICT (name) DO NOTHING");
        command.Parameters.AddWithValue("name", string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName);
        command.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }
}
