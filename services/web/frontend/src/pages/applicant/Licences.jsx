// Placeholder: this screen is being built (issue 15).
export default function Licences() {
  return (
    <section>
      <h1>Licences</h1>
    </section>
  );
}
